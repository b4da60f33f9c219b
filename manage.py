#!/usr/bin/env python
"""Alias of the ``branchcare`` console script."""

from branchcare.__main__ import main

if __name__ == "__main__":
    main()

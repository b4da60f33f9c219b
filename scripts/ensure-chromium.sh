#!/usr/bin/env bash
# Browser tests drive Debian's Chromium (never a downloaded browser) and need CJK fonts; the PDF advice
# letters need a TrueType CJK font (fonts-wqy-zenhei).
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
# TrueType CJK font embedded in the PDF advice letters (reportlab cannot embed Noto's CFF outlines).
[ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need+=(fonts-wqy-zenhei)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "Installing ${need[*]} ..."
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "Missing ${need[*]}: install with 'sudo apt-get install -y ${need[*]}'" >&2
    exit 1
  fi
fi

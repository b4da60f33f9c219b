"""BranchCare 营业部客户服务系统."""

"""CloudWatch metrics and alarms (service ``monitoring``): storage-backed statistics, metric
filters that count, Embedded Metric Format, and alarms evaluated as AWS does."""

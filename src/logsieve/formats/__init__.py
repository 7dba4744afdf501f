"""Knowledge of data shapes, pure: the awslogs envelope and the log formats of AWS sources."""

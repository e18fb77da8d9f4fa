"""What every pipeline in this bundle shares: table names and expectations from the pipeline configuration."""

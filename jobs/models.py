"""Deploy and fine-tune jobs: the state machines (arrive with the deploy and fine-tune issues)."""

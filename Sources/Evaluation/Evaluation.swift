// The Evaluation module.

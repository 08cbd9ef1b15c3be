// The NeuralNet module.

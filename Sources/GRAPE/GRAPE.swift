// The GRAPE module.

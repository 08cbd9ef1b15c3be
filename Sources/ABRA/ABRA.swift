// The ABRA module.

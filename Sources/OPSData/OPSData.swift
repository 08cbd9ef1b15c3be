// The OPSData module.

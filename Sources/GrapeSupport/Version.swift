/// The toolkit's version, printed by `grape --version` and recorded in every file it writes
/// (`toolkit_version`). Semantic versioning: the minor number changes with the file formats.
public let toolkitVersion = "0.9.0"

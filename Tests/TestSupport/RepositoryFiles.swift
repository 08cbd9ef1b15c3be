import Foundation

/// Paths of files checked into the repository, for tests that read them (the CORUM table, fixtures).
public enum RepositoryFiles {
  /// The repository's root folder, found from this source file's location.
  public static var root: URL {
    URL(fileURLWithPath: #filePath)  // Tests/TestSupport/RepositoryFiles.swift
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  }

  /// `Data/corum_complexes.tsv`: the 14-complex ground-truth table.
  public static var corumComplexes: URL { root.appendingPathComponent("Data/corum_complexes.tsv") }
}

import CHDF5

extension HDF5Group {
  /// Makes `path` a second name (an HDF5 hard link) of the existing object `target`, so that the
  /// same data appears at two places in the file and is stored once.
  ///
  /// - Parameters:
  ///   - target: the object, relative to this group or absolute.
  ///   - path: the new name, relative to this group or absolute; its parent group must exist.
  /// - Throws: ``OPSDataError/hdf5(path:object:operation:detail:)`` when `target` is missing or
  ///   `path` is taken.
  public func link(_ target: String, as path: String) throws {
    try HDF5Library.sync {
      let id = try liveID()
      _ = try check(H5Lcreate_hard(id, target, id, path, 0, 0), "link to \(childPath(target))", object: childPath(path))
    }
  }
}

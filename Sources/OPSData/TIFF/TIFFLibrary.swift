import CTIFF
import Foundation

/// Access to libtiff: per-file message capture instead of libtiff's printing to stderr, and typed
/// access to the variadic tag functions.
enum TIFFLibrary {
  /// Turns off libtiff's process-wide default handlers (which print to stderr), once.
  static let silenced: Bool = {
    TIFFSetErrorHandler(nil)
    TIFFSetWarningHandler(nil)
    return true
  }()

  /// Messages libtiff reported for one open file.
  final class Messages: @unchecked Sendable {
    // Invariant: touched only by the thread that owns the TIFF handle.
    var errors: [String] = []
    var warnings: [String] = []

    /// The errors (or, if none, the warnings) joined into one line.
    var summary: String {
      let items = errors.isEmpty ? warnings : errors
      return items.joined(separator: "; ")
    }
  }

  /// An open libtiff handle with its captured messages; closed on deinit.
  final class Handle {
    let tif: OpaquePointer
    let messages: Messages
    private let retained: Unmanaged<Messages>
    private var closed = false

    fileprivate init(tif: OpaquePointer, messages: Messages, retained: Unmanaged<Messages>) {
      self.tif = tif
      self.messages = messages
      self.retained = retained
    }

    /// Closes the file (flushing it when written); returns false when libtiff reported an error.
    @discardableResult
    func close() -> Bool {
      guard !closed else { return true }
      closed = true
      let before = messages.errors.count
      TIFFClose(tif)
      return messages.errors.count == before
    }

    deinit {
      close()
      retained.release()
    }
  }

  /// Opens `path` with `mode` ("r" or "w"), capturing libtiff's messages.
  ///
  /// - Returns: the handle, or `nil` with the captured messages when libtiff could not open it.
  static func open(_ path: String, mode: String) -> (Handle?, Messages) {
    _ = silenced
    let messages = Messages()
    let retained = Unmanaged.passRetained(messages)
    guard let options = TIFFOpenOptionsAlloc() else {
      retained.release()
      messages.errors.append("cannot allocate libtiff options")
      return (nil, messages)
    }
    defer { TIFFOpenOptionsFree(options) }
    let context = retained.toOpaque()
    TIFFOpenOptionsSetErrorHandlerExtR(
      options,
      { _, user, module, format, arguments in
        TIFFLibrary.record(user, module, format, arguments, isError: true)
      }, context)
    TIFFOpenOptionsSetWarningHandlerExtR(
      options,
      { _, user, module, format, arguments in
        TIFFLibrary.record(user, module, format, arguments, isError: false)
      }, context)
    guard let tif = TIFFOpenExt(path, mode, options) else {
      retained.release()
      return (nil, messages)
    }
    return (Handle(tif: tif, messages: messages, retained: retained), messages)
  }

  /// Formats one libtiff message into the `Messages` box behind `user`; returns 1 (handled).
  private static func record(
    _ user: UnsafeMutableRawPointer?, _ module: UnsafePointer<CChar>?,
    _ format: UnsafePointer<CChar>?,
    _ arguments: CVaListPointer?, isError: Bool
  ) -> Int32 {
    guard let user, let format, let arguments else { return 1 }
    let box = Unmanaged<Messages>.fromOpaque(user).takeUnretainedValue()
    var buffer = [CChar](repeating: 0, count: 1024)
    _ = vsnprintf(&buffer, buffer.count, format, arguments)
    let text = String(
      decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let prefix = module.map { String(cString: $0) }.map { $0.isEmpty ? "" : "\($0): " } ?? ""
    if isError { box.errors.append(prefix + text) } else { box.warnings.append(prefix + text) }
    return 1
  }

  // MARK: - Tags (libtiff's variadic accessors through their va_list forms)

  /// A 16-bit tag value, or `nil` when absent.
  static func uint16(_ tif: OpaquePointer, _ tag: Int32, defaulted: Bool = true) -> UInt16? {
    var value: UInt16 = 0
    let found = withUnsafeMutablePointer(to: &value) { pointer in
      withVaList([pointer]) { list in
        defaulted
          ? TIFFVGetFieldDefaulted(tif, UInt32(tag), list) : TIFFVGetField(tif, UInt32(tag), list)
      }
    }
    return found == 1 ? value : nil
  }

  /// A 32-bit tag value, or `nil` when absent.
  static func uint32(_ tif: OpaquePointer, _ tag: Int32, defaulted: Bool = true) -> UInt32? {
    var value: UInt32 = 0
    let found = withUnsafeMutablePointer(to: &value) { pointer in
      withVaList([pointer]) { list in
        defaulted
          ? TIFFVGetFieldDefaulted(tif, UInt32(tag), list) : TIFFVGetField(tif, UInt32(tag), list)
      }
    }
    return found == 1 ? value : nil
  }

  /// Sets a tag whose value is passed as one C `int`/`uint32` (every integer tag this module writes).
  @discardableResult
  static func set(_ tif: OpaquePointer, _ tag: Int32, _ value: UInt32) -> Bool {
    withVaList([value]) { TIFFVSetField(tif, UInt32(tag), $0) } == 1
  }

  /// Sets the ExtraSamples tag to `count` unspecified samples.
  @discardableResult
  static func setExtraSamples(_ tif: OpaquePointer, count: Int) -> Bool {
    var kinds = [UInt16](repeating: UInt16(EXTRASAMPLE_UNSPECIFIED), count: max(count, 1))
    return kinds.withUnsafeMutableBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return false }
      return withVaList([Int32(count), base]) {
        TIFFVSetField(tif, UInt32(TIFFTAG_EXTRASAMPLES), $0)
      } == 1
    }
  }
}

import GrapeSupport
import Foundation
import TensorCore

/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// mapping each tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets into
/// the data section) plus optional `"__metadata__"` strings, then the raw little-endian data.
///
/// Files written here hold float32 tensors (names sorted, header padded with spaces to a multiple
/// of 8 bytes, as the Python library writes them) and open with `safetensors.torch.load_file`.
/// Reading accepts F32, F16, BF16 and F64 (converted to float32) and I64, I32, I16, I8, U8 and
/// BOOL (converted to float32 values), and checks the header thoroughly: a truncated or garbled
/// file gets an error naming the file and the tensor.
public enum SafeTensors {
  /// Tensors and metadata read from a file.
  public struct Contents {
    /// Tensors by name, as float32.
    public var tensors: [String: Tensor]
    /// The `__metadata__` strings.
    public var metadata: [String: String]
    /// The stored dtype of each tensor.
    public var dtypes: [String: String]
  }

  /// Serialises `tensors` (float32) with `metadata` into the safetensors byte layout.
  public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) throws -> Data {
    let names = tensors.keys.sorted()
    var header = "{"
    var entries: [String] = []
    if !metadata.isEmpty {
      let meta = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0] ?? ""))" }.joined(separator: ",")
      entries.append("\"__metadata__\":{\(meta)}")
    }
    var offset = 0
    for name in names {
      guard let t = tensors[name] else { continue }
      let bytes = t.count * 4
      entries.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}")
      offset += bytes
    }
    header += entries.joined(separator: ",") + "}"
    var headerBytes = Array(header.utf8)
    while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
    var data = Data(capacity: 8 + headerBytes.count + offset)
    var len = UInt64(headerBytes.count).littleEndian
    withUnsafeBytes(of: &len) { data.append(contentsOf: $0) }
    data.append(contentsOf: headerBytes)
    for name in names {
      guard let t = tensors[name] else { continue }
      t.withUnsafeScalars { buf in
        // Float32 is little-endian on every platform Swift runs on here.
        data.append(UnsafeBufferPointer(start: UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: UInt8.self), count: buf.count * 4))
      }
    }
    return data
  }

  /// Writes `tensors` to `path` atomically (temporary file, fsync, rename).
  public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String) throws {
    let bytes = try encode(tensors, metadata: metadata)
    do { try AtomicFile.write(bytes, to: path) } catch {
      throw SerializationError.io(path: path, reason: error.reason)
    }
  }

  /// Reads a safetensors file.
  public static func read(_ path: String) throws -> Contents {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
    } catch {
      throw SerializationError.io(path: path, reason: "cannot read: \(error.localizedDescription)")
    }
    return try decode(data, path: path)
  }

  /// Parses safetensors bytes; `path` only names the source in errors.
  public static func decode(_ data: Data, path: String = "<memory>") throws -> Contents {
    func bad(_ reason: String) -> SerializationError { .malformed(path: path, reason: reason) }
    guard data.count >= 8 else { throw bad("file has \(data.count) bytes, shorter than the 8-byte header length") }
    let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | (UInt64($1.element) << (8 * UInt64($1.offset))) }
    guard headerLength <= UInt64(data.count - 8) else { throw bad("header length \(headerLength) exceeds the file size \(data.count)") }
    guard headerLength <= 100_000_000 else { throw bad("header length \(headerLength) is implausibly large") }
    let headerEnd = 8 + Int(headerLength)
    let headerData = data.subdata(in: 8..<headerEnd)
    guard let json = try? JSONSerialization.jsonObject(with: headerData), let header = json as? [String: Any] else {
      throw bad("header is not a JSON object")
    }
    let dataSize = data.count - headerEnd
    var tensors: [String: Tensor] = [:]
    var dtypes: [String: String] = [:]
    var metadata: [String: String] = [:]
    var ranges: [(Int, Int, String)] = []
    for (name, value) in header {
      if name == "__metadata__" {
        guard let meta = value as? [String: Any] else { throw bad("__metadata__ is not an object") }
        for (k, v) in meta { metadata[k] = (v as? String) ?? "\(v)" }
        continue
      }
      guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
        let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2
      else { throw bad("entry '\(name)' lacks dtype, shape or data_offsets") }
      guard shape.allSatisfy({ $0 >= 0 }) else { throw bad("tensor '\(name)' has a negative extent in \(shape)") }
      guard let size = elementSize(dtype) else { throw SerializationError.unsupportedDType(path: path, tensor: name, dtype: dtype) }
      let (begin, end) = (offsets[0], offsets[1])
      let count = shape.reduce(1, *)
      guard begin >= 0, end >= begin, end <= dataSize else {
        throw bad("tensor '\(name)' data [\(begin), \(end)) lies outside the \(dataSize)-byte data section (truncated file?)")
      }
      guard end - begin == count * size else {
        throw bad("tensor '\(name)' has \(end - begin) bytes, but \(dtype) \(shape) needs \(count * size)")
      }
      if end > begin { ranges.append((begin, end, name)) }  // empty tensors occupy no bytes
      let t = Tensor(uninitializedShape: shape)
      data.withUnsafeBytes { raw in
        convert(raw.baseAddress! + headerEnd + begin, dtype: dtype, count: count, into: t.storage.pointer)
      }
      tensors[name] = t
      dtypes[name] = dtype
    }
    ranges.sort { $0.0 < $1.0 }
    for i in 1..<max(ranges.count, 1) where ranges[i].0 < ranges[i - 1].1 {
      throw bad("tensors '\(ranges[i - 1].2)' and '\(ranges[i].2)' overlap")
    }
    return Contents(tensors: tensors, metadata: metadata, dtypes: dtypes)
  }

  static func elementSize(_ dtype: String) -> Int? {
    switch dtype {
    case "F64", "I64", "U64": return 8
    case "F32", "I32", "U32": return 4
    case "F16", "BF16", "I16", "U16": return 2
    case "I8", "U8", "BOOL": return 1
    default: return nil
    }
  }

  /// Converts `count` little-endian elements of `dtype` at `src` to float32.
  static func convert(_ src: UnsafeRawPointer, dtype: String, count: Int, into dst: UnsafeMutablePointer<Float>) {
    for i in 0..<count {
      switch dtype {
      case "F32": dst[i] = Float(bitPattern: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
      case "F64": dst[i] = Float(Double(bitPattern: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian))
      case "F16": dst[i] = Float(Float16(bitPattern: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian))
      case "BF16": dst[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16)
      case "I64": dst[i] = Float(Int64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
      case "U64": dst[i] = Float(UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
      case "I32": dst[i] = Float(Int32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
      case "U32": dst[i] = Float(UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
      case "I16": dst[i] = Float(Int16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
      case "U16": dst[i] = Float(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
      case "I8": dst[i] = Float(src.load(fromByteOffset: i, as: Int8.self))
      default: dst[i] = Float(src.load(fromByteOffset: i, as: UInt8.self))  // U8, BOOL
      }
    }
  }
}

import Foundation

/// `fromRGB` → `from_rgb`, `conv1x1` → `conv1x1`, `kMu` → `k_mu`.
public func snakeCase(_ name: String) -> String {
  let chars = Array(name)
  var out = ""
  for (i, c) in chars.enumerated() {
    if c.isUppercase {
      let prevLower = i > 0 && (chars[i - 1].isLowercase || chars[i - 1].isNumber)
      let nextLower = i + 1 < chars.count && chars[i + 1].isLowercase
      let prevUpper = i > 0 && chars[i - 1].isUppercase
      if i > 0 && (prevLower || (prevUpper && nextLower)) { out.append("_") }
      out += c.lowercased()
    } else {
      out.append(c)
    }
  }
  return out
}

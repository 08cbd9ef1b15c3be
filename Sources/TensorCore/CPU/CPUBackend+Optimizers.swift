import GrapeSupport

extension CPUBackend {
  public func adamUpdate(_ x: Storage, gradient: Storage, m: Storage, v: Storage, count n: Int, _ s: AdamUpdate, into out: Storage) {
    let (xp, gp, mp, vp, op) = (UnsafePointer(x.pointer), UnsafePointer(gradient.pointer), m.pointer, v.pointer, out.pointer)
    let (b1, b2, sign, wd, stepSize, bc2Sqrt, eps) = (s.beta1, s.beta2, s.gradientSign, s.weightDecay, s.stepSize, s.secondMomentCorrectionRoot, s.eps)
    Parallel.forEach(n, costPerItem: 8) { r in
      for i in r {
        let g = sign * gp[i] + wd * xp[i]
        mp[i] = b1 * mp[i] + (1 - b1) * g
        vp[i] = b2 * vp[i] + (1 - b2) * g * g
        op[i] = xp[i] - stepSize * mp[i] / (vp[i].squareRoot() / bc2Sqrt + eps)
      }
    }
  }

  public func lerp(from source: Storage, to target: Storage, weight beta: Float, count n: Int, into out: Storage) {
    let (sp, tp, op) = (UnsafePointer(source.pointer), UnsafePointer(target.pointer), out.pointer)
    for i in 0..<n { op[i] = sp[i] + beta * (tp[i] - sp[i]) }
  }
}

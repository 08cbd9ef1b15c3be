import Training
import NeuralNet
import OPSData
import TensorCore

/// What a trained GRAPE model produces: gene embeddings, per-cell style codes and translated
/// images. All functions run without recording gradients and take networks in evaluation mode
/// (normally the EMA copy from ``loadTrainedNetworks(run:useEMA:)``).
public enum GRAPEInference {
  /// The learned gene embedding M: [G, latent_dim], row i for gene i.
  public static func embedding(_ nets: GRAPENetworks) -> Tensor { nets.geneEmbedding.weight.value.detached() }

  /// The style codes F(M) of every gene: [G, style_dim].
  public static func mappedEmbedding(_ nets: GRAPENetworks) -> Tensor {
    withoutGradient { nets.mappingNetwork(nets.geneEmbedding.weight.value) }.detached()
  }

  /// Style codes E(x) of cells, computed `batchSize` at a time.
  ///
  /// With a `group` of several ranks (mpirun, srun) each rank encodes its share of the cells
  /// and every rank receives all codes.
  ///
  /// - Parameters:
  ///   - indices: which cells of `source` (all by default).
  ///   - group: the ranks that share the work (one process by default).
  ///   - progress: called with the number of cells this process has done.
  /// - Returns: [indices.count, style_dim].
  public static func encode(
    _ nets: GRAPENetworks, source: CellSource, transform: InputTransform, indices: [Int]? = nil, batchSize: Int = 64,
    group: ProcessGroup = .single, progress: (Int) -> Void = { _ in }
  ) throws -> Tensor {
    let all = indices ?? Array(0..<source.cellCount)
    let dim = nets.styleEncoder.fc.weight.shape[0]
    let mine = group.share(of: all.count)
    let transform = try transform.bound(to: source)
    var chunks: [Tensor] = []
    var done = 0
    while done < mine.count {
      let idx = Array(all[(mine.lowerBound + done)..<(mine.lowerBound + min(done + batchSize, mine.count))])
      let x = try source.inputs(idx, transform: transform)
      chunks.append(withoutGradient { nets.styleEncoder(x) }.detached())
      done += idx.count
      progress(done)
    }
    let local = chunks.isEmpty ? Tensor.zeros([0, dim]) : concat(chunks, axis: 0)
    guard group.isDistributed else { return local }
    // Every rank's rows in place, zeros elsewhere; the sum over the ranks gathers them.
    var gathered = [Float](repeating: 0, count: all.count * dim)
    gathered.replaceSubrange((mine.lowerBound * dim)..<(mine.upperBound * dim), with: local.scalars)
    group.allreduceSum(&gathered)
    return Tensor(gathered, shape: [all.count, dim])
  }

  /// Per-gene means of style codes: [G, style_dim] and the number of cells behind each row
  /// (genes without cells get a zero row and count 0).
  ///
  /// With `normalization` `.controls` each batch's codes are first standardised by that batch's
  /// control cells (``ProfileNormalization``), as profiling pipelines treat any per-cell profile.
  public static func styleMeans(
    _ nets: GRAPENetworks, source: CellSource, transform: InputTransform, normalization: ProfileNormalization = .none,
    batchSize: Int = 64, group: ProcessGroup = .single, progress: (Int) -> Void = { _ in }
  ) throws -> (Tensor, [Int]) {
    let codes = try encode(nets, source: source, transform: transform, batchSize: batchSize, group: group, progress: progress)
    let g = source.geneNames.count
    let d = codes.shape[1]
    var values = codes.scalars
    if normalization == .controls {
      let isControl = source.geneOfCell.map { $0 == source.controlGene }
      ProfileNormalization.standardizePerBatch(&values, dimension: d, batchOfCell: source.batchOfCell, isControl: isControl)
    }
    var sums = [Double](repeating: 0, count: g * d)
    var counts = [Int](repeating: 0, count: g)
    for (cell, gene) in source.geneOfCell.enumerated() {
      counts[gene] += 1
      for j in 0..<d { sums[gene * d + j] += Double(values[cell * d + j]) }
    }
    let means = (0..<(g * d)).map { i in counts[i / d] > 0 ? Float(sums[i] / Double(counts[i / d])) : 0 }
    return (Tensor(means, shape: [g, d]), counts)
  }

  /// G(x, F(M[gene])) for cells: each input cell as if it carried `gene`, [N, C, H, W] in the
  /// network's input space.
  public static func transfer(
    _ nets: GRAPENetworks, source: CellSource, transform: InputTransform, indices: [Int], gene: Int, batchSize: Int = 32
  ) throws -> Tensor {
    let transform = try transform.bound(to: source)
    var chunks: [Tensor] = []
    var done = 0
    while done < indices.count {
      let idx = Array(indices[done..<min(done + batchSize, indices.count)])
      let x = try source.inputs(idx, transform: transform)
      let s = nets.geneStyles([Int](repeating: gene, count: idx.count))
      chunks.append(withoutGradient { nets.generator(x, style: s) }.detached())
      done += idx.count
    }
    if chunks.isEmpty { return Tensor.zeros([0] + source.imageShape) }
    return concat(chunks, axis: 0)
  }
}

import OPSData
import Foundation
import GrapeSupport

/// One measured figure of `grape bench evaluate`.
public struct BenchmarkMeasurement: Sendable, Equatable {
  /// What was measured (`kmeans_100_restarts`, `batch_metrics`, …).
  public let metric: String
  /// The figure.
  public let value: Double
  /// Its unit (`s`, `ms`, …).
  public let unit: String
  /// The input, in words (`105x500 k=14`).
  public let input: String

  /// The JSON line `grape bench` prints: `{"bench": "evaluate", "metric": …, "value": …, "unit": …,
  /// "input": …}`.
  public func jsonLine(bench: String = "evaluate") -> String {
    JSONValue.object([
      ("bench", .string(bench)), ("metric", .string(metric)), ("value", .number(value)),
      ("unit", .string(unit)), ("input", .string(input)),
    ]).serialized(indent: 0)
  }
}

/// Timings of the evaluation on the inputs of `BenchmarkData` (the same inputs that
/// `scripts/reference/eval_bench_sklearn.py` times with scikit-learn).
public enum EvaluationBenchmark {
  /// What to run.
  public struct Settings: Sendable {
    /// k-means runs (GRAPE: 100).
    public var restarts = 100
    /// Cells of the batch-metric benchmark.
    public var cells = 100_000
    /// Whether to time the k sweep 5–30 too.
    public var sweep = true
    /// Whether to time the batch metrics (the longest part).
    public var batch = true

    /// The defaults of `grape bench evaluate`.
    public init() {}
  }

  /// Runs the benchmarks and returns one measurement per figure; `progress` receives each as it
  /// is measured.
  public static func run(
    _ settings: Settings = Settings(), progress: (BenchmarkMeasurement) -> Void = { _ in }
  ) -> [BenchmarkMeasurement] {
    var out: [BenchmarkMeasurement] = []
    func record(_ metric: String, _ seconds: Double, _ input: String) {
      let m = BenchmarkMeasurement(
        metric: metric, value: (seconds * 1e4).rounded() / 1e4, unit: "s", input: input)
      out.append(m)
      progress(m)
    }
    // The metric values themselves, to check against scikit-learn's on the same input.
    func score(_ metric: String, _ value: Double?, _ input: String) {
      let m = BenchmarkMeasurement(
        metric: metric, value: ((value ?? .nan) * 1e6).rounded() / 1e6, unit: "score", input: input)
      out.append(m)
      progress(m)
    }
    let (values, labels) = BenchmarkData.embedding()
    let shape = "105x500 k=14"
    let restarts = settings.restarts
    let clock = ContinuousClock()
    var summary: ClusteringSummary?
    let t1 = clock.measure {
      let data = KMeansData(values: values, count: 105, dimension: 500)
      summary = ClusteringEvaluation.evaluate(
        data: data, truth: labels, k: 14, restarts: restarts, seed: 0)
    }
    record("kmeans_\(restarts)_restarts_with_nmi_ari_purity", seconds(t1), shape)
    score("kmeans_nmi_mean", summary?.nmi.mean, shape)
    score("kmeans_ari_mean", summary?.ari.mean, shape)
    score("kmeans_purity_mean", summary?.purity.mean, shape)
    var ap: AveragePrecisionResult?
    let t2 = clock.measure {
      ap = AveragePrecision.compute(values: values, count: 105, dimension: 500, labels: labels)
    }
    record("map", seconds(t2), "105x500")
    score("map_value", ap?.meanAveragePrecision, "105x500")
    if settings.sweep {
      let t3 = clock.measure {
        let data = KMeansData(values: values, count: 105, dimension: 500)
        _ = ClusteringEvaluation.sweep(
          data: data, truth: labels, ks: Array(5...30), restarts: restarts, seed: 0)
      }
      record("kmeans_sweep_5_30_\(restarts)_restarts", seconds(t3), "105x500")
    }
    if settings.batch {
      let n = settings.cells
      let (codes, genes, batches) = BenchmarkData.cells(cells: n)
      let input = "\(n)x64, 105 genes, 4 batches"
      var lists: NeighborLists?
      var asw: Double?
      let tASW = clock.measure {
        asw =
          BatchEffect.batchASW(
            values: codes, count: n, dimension: 64, labels: genes, batches: batches
          ).asw
      }
      record("batch_asw", seconds(tASW), input)
      let tKNN = clock.measure {
        lists = NearestNeighbors.compute(values: codes, count: n, dimension: 64, k: 15)
      }
      record("knn_15_neighbors", seconds(tKNN), input)
      if let lists {
        var accuracy: Double?
        var connectivity: Double?
        let tRest = clock.measure {
          accuracy = BatchEffect.knnAccuracy(neighbors: lists, batches: batches, k: 15)
          connectivity = BatchEffect.graphConnectivity(neighbors: lists, labels: genes, k: 14)
        }
        record("knn_accuracy_and_graph_connectivity", seconds(tRest), input)
        record("batch_metrics_total", seconds(tASW + tKNN + tRest), input)
        score("asw_value", asw, input)
        score("knn_accuracy_value", accuracy, input)
        score("graph_connectivity_value", connectivity, input)
      }
      if n > 20_000 {
        let cells = try? LabeledCodes(
          values: codes, dimension: 64, geneIndex: genes, geneNames: (0..<105).map { "g\($0)" },
          batchIndex: batches, batchNames: ["b0", "b1", "b2", "b3"])
        if let cells {
          let tSub = clock.measure { _ = BatchEffect.measure(cells: cells) }
          record("batch_metrics_subsampled_20000", seconds(tSub), input)
        }
      }
    }
    return out
  }

  private static func seconds(_ d: Duration) -> Double {
    let c = d.components
    return Double(c.seconds) + Double(c.attoseconds) * 1e-18
  }
}

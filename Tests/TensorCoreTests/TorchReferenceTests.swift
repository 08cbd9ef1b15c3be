import Foundation
import Testing
import TensorCore
import TestSupport

/// Forward values against PyTorch (fixture made by scripts/reference/tensorcore_reference.py).
@Suite struct TorchReferenceTests {
  let fx: ReferenceFixture

  init() throws {
    guard let url = Bundle.module.url(forResource: "torch_reference", withExtension: "json", subdirectory: "Fixtures") else {
      throw FixtureError.missing("Fixtures/torch_reference.json")
    }
    fx = try ReferenceFixture(url: url)
  }

  @Test(arguments: ["conv_3x3_s1_p1", "conv_3x3_s2_p1", "conv_1x1", "conv_4x4_valid"])
  func conv2dMatchesTorch(_ name: String) throws {
    let y = conv2d(
      try fx.tensor(name, "x"), weight: try fx.tensor(name, "w"), bias: try fx.tensor(name, "b"),
      stride: try fx.int(name, "stride"), padding: try fx.int(name, "padding"))
    assertClose(y, try fx.tensor(name, "y"), rtol: 1e-4, atol: 1e-5, name)
  }

  @Test func instanceNormMatchesTorch() throws {
    let x = try fx.tensor("instance_norm", "x")
    assertClose(instanceNorm(x), try fx.tensor("instance_norm", "y"), rtol: 1e-4, atol: 1e-5)
    let c = "instance_norm_affine"
    let y = instanceNorm(try fx.tensor(c, "x"), weight: try fx.tensor(c, "weight"), bias: try fx.tensor(c, "bias"))
    assertClose(y, try fx.tensor(c, "y"), rtol: 1e-4, atol: 1e-5)
  }

  @Test func batchNormMatchesTorch() throws {
    let c = "batch_norm"
    var stats = BatchNormStatistics(channels: 3)
    let (x, w, b) = (try fx.tensor(c, "x"), try fx.tensor(c, "weight"), try fx.tensor(c, "bias"))
    let yTrain = batchNorm(x, weight: w, bias: b, running: &stats, training: true)
    assertClose(yTrain, try fx.tensor(c, "y_train"), rtol: 1e-4, atol: 1e-5, "train")
    assertClose(stats.mean, try fx.tensor(c, "running_mean"), rtol: 1e-5, atol: 1e-6, "running mean")
    assertClose(stats.variance, try fx.tensor(c, "running_var"), rtol: 1e-5, atol: 1e-6, "running var")
    let yEval = batchNorm(x, weight: w, bias: b, running: &stats, training: false)
    assertClose(yEval, try fx.tensor(c, "y_eval"), rtol: 1e-4, atol: 1e-5, "eval")
  }

  @Test func softmaxAndCrossEntropyMatchTorch() throws {
    let logits = try fx.tensor("softmax", "logits")
    assertClose(logits.softmax(axis: 1), try fx.tensor("softmax", "softmax"), rtol: 1e-5, atol: 1e-6)
    assertClose(logits.logSoftmax(axis: 1), try fx.tensor("softmax", "log_softmax"), rtol: 1e-5, atol: 1e-5)
    let ce = crossEntropy(logits: logits, targets: try fx.ints("softmax", "targets"))
    #expect(abs(Double(ce.item) - (try fx.number("softmax", "cross_entropy"))) < 1e-5)
  }

  @Test func bceAndNormalizeMatchTorch() throws {
    let loss = binaryCrossEntropy(logits: try fx.tensor("bce", "logits"), targets: try fx.tensor("bce", "targets"))
    #expect(abs(Double(loss.item) - (try fx.number("bce", "loss"))) < 1e-5)
    assertClose(try fx.tensor("l2_normalize", "x").l2Normalized(axis: 1), try fx.tensor("l2_normalize", "y"), rtol: 1e-5, atol: 1e-6)
  }
}

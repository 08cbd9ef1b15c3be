import ArgumentParser
import GrapeSupport

@main
struct Grape: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "grape",
    abstract: "Gene embeddings from optical pooled screens, with batch-effect correction.",
    version: toolkitVersion,
    subcommands: [
      Simulate.self, Import.self, Inspect.self, Train.self, Export.self, Encode.self, Transfer.self, Features.self, Profile.self, Evaluate.self, Classify.self, Bench.self,
    ])
}

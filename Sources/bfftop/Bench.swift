import ArgumentParser

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure ingest, aggregation, memory and rendering; prints figures.")

    func run() async throws {
        print("bench: not yet")
    }
}

import Testing
@testable import BFFTopStats
import BFFTopWire

/// Each provider's charge against its published formula, written out here independently.
@Suite struct CostModelTests {
    func fn(_ ms: Double, memory: Double? = 512, used: Double? = nil, billed: Double? = nil, arch: Architecture? = nil) -> Invocation {
        Invocation(ts: 0, endpoint: "f", kind: .function, durationMs: ms, billedMs: billed, memoryMB: memory, maxMemoryMB: used, arch: arch)
    }

    func charge(_ p: Provider, _ i: Invocation, vcpu: Double? = nil) -> Double {
        var s = FunctionSettings(pattern: "*")
        s.provider = p
        s.vcpu = vcpu
        return CostModel(provider: p).charge(i, settings: s).total
    }

    @Test func awsLambdaX86AndArm() {
        #expect(abs(charge(.awsLambdaX86, fn(812.3, billed: 813)) - (0.0000002 + 0.813 * 0.5 * 0.0000166667)) < 1e-15)
        #expect(abs(charge(.awsLambdaArm, fn(99.2)) - (0.0000002 + 0.100 * 0.5 * 0.0000133334)) < 1e-15)
        // No provider configured: the invocation's arch picks the AWS sheet.
        #expect(abs(CostModel.awsLambda.charge(fn(99.2, arch: .arm64)).total - (0.0000002 + 0.100 * 0.5 * 0.0000133334)) < 1e-15)
    }

    @Test func googleCloudRunFunctionsRoundsTo100msAndBillsVCPU() {
        // 512 MB → 0.333 vCPU by default; 1 234 ms → 1.3 s.
        let want = 0.0000004 + 1.3 * 0.5 * 0.0000025 + 1.3 * 0.333 * 0.000024
        #expect(abs(charge(.gcpCloudRunFunctions, fn(1234)) - want) < 1e-15)
        let want2 = 0.0000004 + 0.1 * 0.5 * 0.0000025 + 0.1 * 2 * 0.000024
        #expect(abs(charge(.gcpCloudRunFunctions, fn(3), vcpu: 2) - want2) < 1e-15)
    }

    @Test func azureConsumptionObservedMemoryIn128MBStepsWith100msMinimum() {
        // 300 MB observed → 384 MB; 40 ms → 100 ms minimum.
        #expect(abs(charge(.azureConsumption, fn(40, memory: 1024, used: 300)) - (0.0000002 + 0.1 * 384.0 / 1024 * 0.000016)) < 1e-15)
        // Capped at 1 536 MB.
        #expect(abs(charge(.azureConsumption, fn(2000, memory: 4096, used: 3000)) - (0.0000002 + 2.0 * 1.5 * 0.000016)) < 1e-15)
    }

    @Test func alibabaComputeUnits() {
        // 75 CU per 10 000 requests; 1 CU per vCPU-s; 0.15 CU per GB-s; $0.000020 per CU.
        let cu = 75.0 / 10_000 + 0.25 * 1 * 1 + 0.25 * 2 * 0.15
        #expect(abs(charge(.alibabaFC, fn(250, memory: 2048), vcpu: 1) - cu * 0.000020) < 1e-15)
    }

    @Test func tencentSCF() {
        #expect(abs(charge(.tencentSCF, fn(87.5, memory: 256)) - (0.0000002 + 0.088 * 0.25 * 0.0000167)) < 1e-15)
    }

    @Test func monthlyProjectionAppliesFreeTierAndVolumeTiers() {
        // 3M requests of 1 s at 512 MB in a month: the AWS pricing page's worked example, $18.74 after
        // the free tier (1.1 M GB-s × $0.0000166667 + 2 M × $0.20/M).
        var u = Usage()
        u.requests = 3_000_000 / 730
        u.gbSeconds = 1_500_000 / 730
        let perHour = (u.requests * 0.0000002 + u.gbSeconds * 0.0000166667)
        let free = CostModel(provider: .awsLambdaX86, freeTier: true)
        let want = 1_100_000 * 0.0000166667 + 2_000_000 * 0.0000002
        #expect(abs(free.projectedMonthly(costPerHour: perHour, usagePerHour: [.awsLambdaX86: u]) - want) < 1e-6)
        let paid = CostModel(provider: .awsLambdaX86)
        #expect(abs(paid.projectedMonthly(costPerHour: perHour, usagePerHour: [.awsLambdaX86: u]) - perHour * 730) < 1e-9)
        // 10 B GB-s in a month: 6 B at tier 1, 4 B at tier 2.
        var big = Usage()
        big.gbSeconds = 10e9 / 730
        let tiered = paid.projectedMonthly(costPerHour: big.gbSeconds * 0.0000166667, usagePerHour: [.awsLambdaX86: big])
        #expect(abs(tiered - (6e9 * 0.0000166667 + 4e9 * 0.000015)) < 1e-3)
    }

    @Test func provisionedConcurrencyAndRightSizing() {
        var s = FunctionSettings(pattern: "img*")
        s.provisionedConcurrency = 5
        s.memoryMB = 1024
        let m = CostModel.awsLambda
        #expect(abs(m.provisionedPerHour(s, memoryMB: nil) - 5 * 1.0 * 3600 * 0.0000041667) < 1e-12)
        #expect(abs(m.charge(fn(100, memory: 1024), settings: s).compute - 0.1 * 0.0000097222) < 1e-15)

        var config = AggregatorConfig()
        var sized = FunctionSettings(pattern: "img*")
        sized.memoryMB = 1024
        config.functions = [sized]
        let agg = Aggregator(config: config)
        for k in 0..<10 {
            agg.ingest(.invocation(Invocation(ts: 1000 + Double(k), endpoint: "img-resize", kind: .function, durationMs: 200, maxMemoryMB: 200)))
        }
        let f = agg.snapshot(SnapshotRequest(), now: 1011).endpoints.first
        #expect(f?.memoryMB == 1024, "memory from the config")
        #expect(f?.suggestedMemoryMB == 256)  // 200 × 1.1 = 220 → next 64 MB step
        // Rates run from the first event (ends at 1000.2) to now.
        let compute = 10 * 0.2 * 1.0 * 0.0000166667
        #expect(abs((f?.rightSizingSavingPerHour ?? 0) - compute / 10.8 * 3600 * 0.75) < 1e-12)
    }

    @Test func globs() {
        #expect(Glob.matches("img*", "img-resize"))
        #expect(Glob.matches("GET /api/*/items", "GET /api/v1/items"))
        #expect(!Glob.matches("img?", "img-resize"))
        #expect(Glob.matches("*", ""))
    }
}

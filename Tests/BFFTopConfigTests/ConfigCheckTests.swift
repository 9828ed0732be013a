import BFFTopConfig
import BFFTopUI
import Testing

/// `config --check` finds what start-up would refuse, every problem in one round.
@Suite struct ConfigCheckTests {
    static func errors(_ text: String, checks: @escaping (inout Config) -> [ConfigError] = { _ in [] }) -> [ConfigError] {
        do {
            _ = try ConfigLoader.parse(text, file: "c.toml", checks: checks)
            return []
        } catch {
            return error.errors
        }
    }

    @Test func targetsNeedARealURLAndMethod() {
        let e = Self.errors("""
            [[target]]
            match = "GET /a"
            url = "not a url"
            method = "FETCH"
            [[target]]
            match = "GET /b"
            url = "http://localhost:99999/x"
            [[target]]
            match = "fn"
            type = "lambda"
            endpoint = "localhost:9000"
            [[target]]
            match = "GET /ok"
            url = "https://user@api.example.localhost:8443/v1/slots?x=1"
            method = "post"
            [[target]]
            match = "GET /v6"
            url = "http://[::1]:3000/"
            """)
        #expect(e.map(\.line) == [3, 4, 7, 11], "\(e)")
        #expect(e[1].message.contains("FETCH") && e[1].message.contains("GET, POST"))
    }

    @Test func keymapAndThemeProblemsComeInTheSameRoundAsTheFilesOwn() {
        let text = """
            theme = "solarized"
            refresh = "soon"
            [keys]
            pause = "q"
            frobnicate = "z"
            """
        let e = Self.errors(text) { c in
            var out: [ConfigError] = []
            do throws(ConfigErrors) { _ = try Keymap.standard.applying(c.keys, file: "c.toml") } catch { out += error.errors }
            do { _ = try ThemeLoader.load(c.theme ?? "dark", dirs: []) } catch let t as ThemeError {
                out.append(ConfigError(file: "c.toml", line: c.themeLine, key: "theme", message: t.message))
            } catch {}
            return out
        }
        #expect(e.map(\.line) == [1, 2, 5], "\(e)")
        #expect(e[0].message.contains("available: dark, light") && !e[0].description.contains(":0:"))
    }

    @Test func takingAKeyFromAnotherActionIsSaid() throws {
        let c = try ConfigLoader.parse("[keys]\npause = \"q\"\n", file: "c.toml")
        let w = Keymap.standard.unreachable(after: c.keys, file: "c.toml")
        #expect(w.count == 1 && w[0].line == 2 && w[0].message.contains("q no longer does \"quit\""), "\(w)")
        #expect(Keymap.standard.unreachable(after: try ConfigLoader.parse("[keys]\npause = \"Z\"\n", file: "c.toml").keys, file: "c.toml").isEmpty, "a free key takes nothing")
    }
}

@Suite struct OTLPConfigTests {
    @Test func otlpHTTPOnLoopbackOnlyUnlessOptedIn() throws {
        #expect(try ConfigLoader.parse("[otlp]\nhttp = \"127.0.0.1:4318\"\n", file: "c.toml").otlpHTTP == "127.0.0.1:4318")
        #expect(ConfigCheckTests.errors("[otlp]\nhttp = \"0.0.0.0:4318\"\n").first?.message.contains("reachable from other machines") == true)
        #expect(try ConfigLoader.parse("listen_beyond_loopback = true\n[otlp]\nhttp = \"0.0.0.0:4318\"\n", file: "c.toml").otlpHTTP == "0.0.0.0:4318")
        #expect(ConfigCheckTests.errors("[otlp]\nhttp = \"nope\"\n").count == 1)
        #expect(try ConfigLoader.parse("[otlp]\ngrpc = \"127.0.0.1:4317\"\n", file: "c.toml").otlpGRPC == "127.0.0.1:4317")
        #expect(try ConfigLoader.parse("[otlp]\ngrpc = \"unix:///run/bfftop/otlp.sock\"\n", file: "c.toml").otlpGRPC == "unix:///run/bfftop/otlp.sock")
        #expect(try ConfigLoader.parse("[otlp]\nlogs = \"127.0.0.1:4317\"\n", file: "c.toml").warnings.count == 1, "unknown keys are said")
    }

    @Test func prometheusOnTCPLoopbackOnly() throws {
        #expect(try ConfigLoader.parse("prometheus = \"127.0.0.1:9464\"\n", file: "c.toml").prometheus == "127.0.0.1:9464")
        #expect(ConfigCheckTests.errors("prometheus = \"0.0.0.0:9464\"\n").first?.message.contains("reachable from other machines") == true)
        #expect(ConfigCheckTests.errors("prometheus = \"unix:/tmp/m.sock\"\n").first?.message.contains("cannot scrape a Unix socket") == true)
    }
}

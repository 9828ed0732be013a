@testable import BFFTopUI
import Foundation
import Testing

@Suite struct ThemeTests {
    static let repoThemes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("themes")

    @Test func builtinThemesAreTheShippedFiles() throws {
        for (name, text) in ThemeLoader.builtinSources {
            let file = try String(contentsOf: Self.repoThemes.appendingPathComponent(name + ".toml"), encoding: .utf8)
            #expect(file.trimmingCharacters(in: .whitespacesAndNewlines) == text.trimmingCharacters(in: .whitespacesAndNewlines),
                    "run scripts/embed-themes.sh after editing themes/\(name).toml")
        }
    }

    @Test func shippedThemesDefineEveryRole() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.repoThemes.path).filter { $0.hasSuffix(".toml") }
        #expect(files.count >= 8)
        for name in files.map({ String($0.dropLast(5)) }) where name != "mono" {
            let t = try ThemeLoader.load(name, dirs: [Self.repoThemes.path])
            #expect(t.name == name)
            for role in Role.allCases { #expect(t.colors[role] != nil, "\(name) lacks \(role.rawValue)") }
        }
    }

    @Test func brokenThemeNamesFileLineAndKey() {
        let text = "[meta]\nname = \"x\"\n[colors]\ntext = \"#12345g\"\n"
        #expect(throws: ThemeError(file: "x.toml", line: 4, key: "text", message: "not a colour or palette name: \"#12345g\"")) {
            _ = try ThemeLoader.parse(text, file: "x.toml") { _ in nil }
        }
        #expect(throws: ThemeError.self) { _ = try ThemeLoader.parse("[colors]\nnot_a_role = \"red\"\n", file: "y.toml") { _ in nil } }
        #expect(throws: ThemeError.self) { _ = try ThemeLoader.parse("[meta]\ninherits = \"nope\"\n", file: "z.toml") { _ in nil } }
    }

    @Test func partialThemesInherit() throws {
        let t = try ThemeLoader.parse("[meta]\nname = \"mine\"\ninherits = \"dark\"\n[colors]\nbad = \"bright-magenta\"\n", file: "mine.toml") {
            ThemeLoader.builtin($0)
        }
        #expect(t.colors[.bad] == .ansi(13))
        #expect(t.colors[.good] == ThemeLoader.builtin("dark")?.colors[.good])
    }

    @Test func colourDepthFallbacks() {
        #expect(Color.rgb(255, 0, 0).resolved(for: .ansi16) == .ansi(9))
        #expect(Color.rgb(0, 0, 0).resolved(for: .indexed256) == .indexed(16))
        #expect(Color.rgb(128, 128, 128).resolved(for: .indexed256) == .indexed(244))
        #expect(Color.rgb(95, 135, 175).resolved(for: .indexed256) == .indexed(67))
        #expect(Color.indexed(196).resolved(for: .ansi16) == .ansi(9))
        #expect(Color.rgb(1, 2, 3).resolved(for: .mono) == .terminalDefault)
        #expect(Color.rgb(1, 2, 3).resolved(for: .truecolor) == .rgb(1, 2, 3))
    }

    /// The painter's table of styles is indexed by `Role.ordinal`: each role's place in
    /// `allCases`, and every theme's style for it at every depth as `Theme.style` works it out.
    @Test func paintersStylesAreTheThemesForEveryRole() throws {
        for (i, role) in Role.allCases.enumerated() { #expect(role.ordinal == i, "\(role)") }
        for theme in ThemeLoader.builtinSources.compactMap({ ThemeLoader.builtin($0.name) }) + [Theme.mono] {
            for depth in [ColorDepth.mono, .ansi8, .ansi16, .indexed256, .truecolor] {
                let p = Painter(width: 1, height: 1, theme: theme, depth: depth)
                for role in Role.allCases { #expect(p.style(role) == theme.style(role, depth: depth), "\(theme.name) \(role)") }
            }
        }
    }
}

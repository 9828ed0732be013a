#if canImport(Glibc)
import Glibc
#endif
import BFFTopConfig
import BFFTopWire
import FoundationEssentials

/// A theme file problem, located precisely: the same `file:line: key: message` as config errors.
public typealias ThemeError = ConfigError

/// Reads theme files: `[meta]` (name, variant, inherits), `[palette]` (named colours) and
/// `[colors]` (role = colour or palette name). Colours are `#rrggbb`, a 0-255 index, an ANSI name
/// (`red`, `bright-blue`, …) or `default`. Partial themes inherit the rest.
public enum ThemeLoader {
    static let ansiNames = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]

    /// Themes compiled in, so the binary works from anywhere. They are byte-for-byte the files in
    /// `themes/` (a test holds them equal).
    public static let builtinSources: [(name: String, text: String)] = BuiltinThemes.all

    public static func builtin(_ name: String) -> Theme? {
        if name == "mono" { return .mono }
        guard let src = builtinSources.first(where: { $0.name == name }) else { return nil }
        return try? parse(src.text, file: "<builtin \(name)>", resolveParent: { _ in nil })
    }

    public static func parse(_ text: String, file: String, resolveParent: (String) throws -> Theme?) throws -> Theme {
        var section = ""
        var meta: [String: String] = [:]
        var palette: [String: Color] = [:]
        var roleValues: [(Role, String, Int)] = []
        for (i, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNo = i + 1
            let line = stripComment(String(rawLine)).trimmedWhitespace
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else { throw ThemeError(file: file, line: lineNo, message: "unterminated section header") }
                section = String(line.dropFirst().dropLast()).trimmedWhitespace
                guard ["meta", "palette", "colors"].contains(section) else {
                    throw ThemeError(file: file, line: lineNo, key: nil, message: "unknown section [\(section)] (expected [meta], [palette] or [colors])")
                }
                continue
            }
            guard let eq = line.firstIndex(of: "=") else {
                throw ThemeError(file: file, line: lineNo, message: "expected key = \"value\"")
            }
            let key = line[..<eq].trimmedWhitespace
            let value = try unquote(line[line.index(after: eq)...].trimmedWhitespace, file: file, line: lineNo, key: key)
            switch section {
            case "meta":
                meta[key] = value
            case "palette":
                guard let c = parseColor(value, palette: [:]) else {
                    throw ThemeError(file: file, line: lineNo, key: key, message: "not a colour: \"\(value)\" (use #rrggbb, 0-255 or an ANSI name)")
                }
                palette[key] = c
            case "colors":
                guard let role = Role(rawValue: key) else {
                    throw ThemeError(file: file, line: lineNo, key: key, message: "unknown colour key (known: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                roleValues.append((role, value, lineNo))
            default:
                throw ThemeError(file: file, line: lineNo, key: key, message: "key outside a section")
            }
        }
        var theme: Theme
        if let parent = meta["inherits"] {
            guard let p = try resolveParent(parent) else {
                throw ThemeError(file: file, line: 1, key: "inherits", message: "no theme named \"\(parent)\"")
            }
            theme = p
        } else {
            theme = Theme(name: "", variant: "dark", colors: [:])
        }
        theme.name = meta["name"] ?? theme.name
        theme.variant = meta["variant"] ?? theme.variant
        for (role, value, lineNo) in roleValues {
            guard let c = parseColor(value, palette: palette) else {
                throw ThemeError(file: file, line: lineNo, key: role.rawValue, message: "not a colour or palette name: \"\(value)\"")
            }
            theme.colors[role] = c
        }
        if let bg = palette["bg"] { theme.background = bg }
        return theme
    }

    static func stripComment(_ s: String) -> String {
        var inString = false
        for (i, ch) in s.enumerated() {
            if ch == "\"" { inString.toggle() }
            if ch == "#", !inString { return String(s.prefix(i)) }
        }
        return s
    }

    static func unquote(_ v: String, file: String, line: Int, key: String) throws -> String {
        if v.hasPrefix("\"") {
            guard v.count >= 2, v.hasSuffix("\"") else { throw ThemeError(file: file, line: line, key: key, message: "unterminated string") }
            return String(v.dropFirst().dropLast())
        }
        guard !v.isEmpty else { throw ThemeError(file: file, line: line, key: key, message: "missing value") }
        return v
    }

    public static func parseColor(_ v: String, palette: [String: Color]) -> Color? {
        let s = v.lowercased()
        if let p = palette[v] { return p }
        if s == "default" || s == "none" { return .terminalDefault }
        if s.hasPrefix("#"), s.count == 7, let n = UInt32(s.dropFirst(), radix: 16) {
            return .rgb(UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF))
        }
        if let n = Int(s), (0...255).contains(n) { return .indexed(UInt8(n)) }
        if let i = ansiNames.firstIndex(of: s) { return .ansi(UInt8(i)) }
        if s.hasPrefix("bright-") || s.hasPrefix("bright_"), let i = ansiNames.firstIndex(of: String(s.dropFirst(7))) {
            return .ansi(UInt8(i + 8))
        }
        return nil
    }

    /// Directories searched for `NAME.toml`, most specific first.
    public static func searchDirectories(environment: [String: String], executablePath: String) -> [String] {
        var dirs: [String] = []
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty { dirs.append(xdg + "/bfftop/themes") }
        if let home = environment["HOME"], !home.isEmpty { dirs.append(home + "/.config/bfftop/themes") }
        dirs.append(FileManager.default.currentDirectoryPath + "/themes")
        // Beside the executable and up to five levels above it (covers `swift run` from a checkout
        // and an install prefix's share/bfftop/themes).
        var dir = parent(executablePath.hasPrefix("/") ? executablePath : FileManager.default.currentDirectoryPath + "/" + executablePath)
        for _ in 0..<6 where dir.count > 1 {
            dirs.append(dir + "/themes")
            dirs.append(dir + "/share/bfftop/themes")
            dir = parent(dir)
        }
        var seen = Set<String>()
        return dirs.filter { seen.insert($0).inserted }
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Loads a theme by name (searching `dirs`, then built-ins) or by path.
    public static func load(_ nameOrPath: String, dirs: [String]) throws -> Theme {
        if nameOrPath == "mono" { return .mono }
        let isPath = nameOrPath.contains("/") || nameOrPath.hasSuffix(".toml")
        let path = isPath ? nameOrPath : dirs.map { $0 + "/" + nameOrPath + ".toml" }.first { FileManager.default.fileExists(atPath: $0) }
        guard let path else {
            if let b = builtin(nameOrPath) { return b }
            throw ThemeError(file: nameOrPath, line: 0,
                             message: "no such theme \"\(nameOrPath)\"; available: \(available(dirs: dirs).joined(separator: ", ")) (theme files are looked for in \(dirs.joined(separator: ", ")))")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ThemeError(file: path, line: 0, message: "cannot read the file")
        }
        let file = path.split(separator: "/").last.map(String.init) ?? path
        let stem = file.hasSuffix(".toml") ? String(file.dropLast(5)) : file
        var theme = try parse(text, file: path) { parent in
            parent == stem ? builtin(parent) : try load(parent, dirs: dirs)
        }
        if theme.name.isEmpty { theme.name = stem }
        return theme
    }

    /// Names of every theme available: files in `dirs`, the built-ins and mono, sorted, no duplicates.
    public static func available(dirs: [String]) -> [String] {
        var names = Set(builtinSources.map(\.name))
        names.insert("mono")
        for d in dirs {
            for f in (try? FileManager.default.contentsOfDirectory(atPath: d)) ?? [] where f.hasSuffix(".toml") {
                names.insert(String(f.dropLast(5)))
            }
        }
        let order = ["dark", "light"]
        return order + names.subtracting(order).sorted()
    }
}

import ArgumentParser
import BFFTopConfig
import BFFTopUI
import FoundationEssentials

/// `--config PATH` for every command that reads the config file.
struct ConfigOption: ParsableArguments {
    @Option(name: .customLong("config"), help: "Config file (default: $XDG_CONFIG_HOME/bfftop/config.toml, else ~/.config/bfftop/config.toml).")
    var path: String?

    /// The config in effect: the file given, else the default file if it exists, else built-in defaults.
    /// Errors stop the program with every problem listed; warnings are printed and it goes on.
    func load(quiet: Bool = false) throws -> Config {
        let env = ProcessInfo.processInfo.environment
        let file = path ?? ConfigLoader.defaultPath(environment: env)
        let text: String
        switch ConfigLoader.readFile(file) {
        case .success(let t?): text = t
        case .success(nil):
            if path != nil { throw CLIError("config: cannot read \(file): no such file") }
            return Config()
        case .failure(let e): throw CLIError("config: \(e)")
        }
        // Every problem in one round: the file's own, the keys', the theme's.
        let parsed = Result { () throws(ConfigErrors) -> Config in
            try ConfigLoader.parse(text, file: file) { c in
                var errors: [ConfigError] = []
                do throws(ConfigErrors) {
                    _ = try Keymap.standard.applying(c.keys, file: file)
                    c.warnings += Keymap.standard.unreachable(after: c.keys, file: file)
                } catch { errors += error.errors }
                if let theme = c.theme {
                    let dirs = ThemeLoader.searchDirectories(environment: env, executablePath: CommandLine.arguments[0])
                    do { _ = try ThemeLoader.load(theme, dirs: dirs) } catch let e as ThemeError {
                        errors.append(ConfigError(file: file, line: c.themeLine, key: "theme", message: e.message))
                    } catch {
                        errors.append(ConfigError(file: file, line: c.themeLine, key: "theme", message: "\(error)"))
                    }
                }
                return errors
            }
        }
        switch parsed {
        case .success(let c):
            if !quiet { for w in c.warnings { printError("bfftop: warning: \(w)") } }
            return c
        case .failure(let e):
            throw CLIError("config has \(e.errors.count) error\(e.errors.count == 1 ? "" : "s"):\n" + e.description)
        }
    }
}

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the default config, or check a config file.",
        discussion: "Without flags, says which file is in effect. Exit status 1 when --check finds errors.")

    @Flag(help: "Print a commented default config (every setting, the built-in alarm rules, the prices used).")
    var printDefault = false

    @Flag(help: "Validate the config file and report every error and warning with file:line.")
    var check = false

    @OptionGroup var config: ConfigOption

    func run() async throws {
        if printDefault {
            print(DefaultConfig.text, terminator: "")
            return
        }
        let env = ProcessInfo.processInfo.environment
        let file = config.path ?? ConfigLoader.defaultPath(environment: env)
        let exists = FileManager.default.fileExists(atPath: file)
        if check {
            let c = try config.load(quiet: true)
            for w in c.warnings { printOut("warning: \(w)") }
            printOut(exists ? "\(file): OK (\(c.alarms.count) alarm rules, \(c.functions.count) function settings, \(c.keys.count) key bindings\(c.warnings.isEmpty ? "" : ", \(c.warnings.count) warnings"))"
                         : "\(file) does not exist: the built-in defaults apply (bfftop config --print-default > \(file) to start one)")
            return
        }
        printOut(exists ? "config: \(file)" : "config: \(file) (not present; built-in defaults in effect)")
    }
}

import BFFTopConfig
import BFFTopUI

enum ConfigFuzz {
    /// The config reader: any text gives a config or a list of errors, never a trap.
    @Sendable static func config(_ bytes: UnsafeRawBufferPointer) -> [String] {
        let text = String(decoding: bytes, as: UTF8.self)
        do {
            _ = try ConfigLoader.parse(text, file: "fuzz.toml")
        } catch {
            if error.errors.isEmpty { return ["refused with no error"] }
        }
        return []
    }

    @Sendable static func theme(_ bytes: UnsafeRawBufferPointer) -> [String] {
        _ = try? ThemeLoader.parse(String(decoding: bytes, as: UTF8.self), file: "fuzz.theme", resolveParent: { ThemeLoader.builtin($0) })
        return []
    }
}

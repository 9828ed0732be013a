import BFFTopConfig

extension Keymap {
    /// Applies `[keys]` from the config: each listed action gets exactly the keys given (its old keys
    /// are dropped; a key taken from another action leaves that action). Unknown actions or key names
    /// are errors at their line.
    public func applying(_ bindings: [Config.KeyBinding], file: String) throws(ConfigErrors) -> Keymap {
        var k = self
        var errors: [ConfigError] = []
        for b in bindings {
            guard let action = Action(rawValue: b.action) else {
                errors.append(ConfigError(file: file, line: b.line, key: "keys.\(b.action)",
                                          message: "unknown action; one of \(Action.allCases.map(\.rawValue).joined(separator: ", "))"))
                continue
            }
            var keys: [Key] = []
            for name in b.keys {
                guard let key = Key(name: name) else {
                    errors.append(ConfigError(file: file, line: b.line, key: "keys.\(b.action)",
                                              message: "unknown key \"\(name)\" (a character, space, enter, esc, tab, s-tab, up, down, left, right, s-left, s-right, pgup, pgdn, home, end, backspace, ctrl-x)"))
                    continue
                }
                keys.append(key)
            }
            k.bindings.removeAll { $0.action == action }
            for key in keys { k.bind(key, to: action) }
        }
        if !errors.isEmpty { throw ConfigErrors(errors: errors) }
        return k
    }

    /// Keys a rebinding took from another action (`pause = "q"` takes `q` from quit), said as
    /// warnings with what is left for that action: the layout others know changed.
    public func unreachable(after bindings: [Config.KeyBinding], file: String) -> [ConfigError] {
        guard let k = try? applying(bindings, file: file) else { return [] }
        var out: [ConfigError] = []
        for (key, action) in self.bindings where !bindings.contains(where: { $0.action == action.rawValue }) {
            guard let now = k.action(for: key), now != action else { continue }
            let taker = bindings.first { $0.action == now.rawValue }
            let left = k.keys(for: action).map(\.label)
            let rest = left.isEmpty ? (action == .quit ? "only Ctrl-C quits now" : "\(action.rawValue) has no key left") : "\(action.rawValue) is on \(left.joined(separator: ", "))"
            out.append(ConfigError(file: file, line: taker?.line ?? 0, key: "keys.\(now.rawValue)",
                                   message: "\(key.label) no longer does \"\(action.help)\" (\(rest))"))
        }
        return out
    }
}

extension Key {
    /// Key names as written in the config.
    public init?(name: String) {
        let n = name.lowercased()
        let named: [String: Key] = [
            "space": .char(" "), "enter": .enter, "return": .enter, "esc": .escape, "escape": .escape, "tab": .tab,
            "s-tab": .backTab, "backtab": .backTab, "up": .up, "down": .down, "left": .left, "right": .right,
            "s-left": .shiftLeft, "s-right": .shiftRight, "pgup": .pageUp, "pageup": .pageUp, "pgdn": .pageDown,
            "pagedown": .pageDown, "home": .home, "end": .end, "backspace": .backspace,
        ]
        if name.count == 1, let c = name.first {
            self = .char(c)
        } else if let k = named[n] {
            self = k
        } else if (n.hasPrefix("ctrl-") && n.count == 6) || (n.hasPrefix("^") && n.count == 2), let c = n.last, c.isLetter {
            self = .ctrl(c)
        } else {
            return nil
        }
    }
}

@testable import BFFTopTerminal
import Testing

/// The default theme follows the terminal's background: COLORFGBG, or the terminal's OSC 11 answer.
@Suite struct TerminalBackgroundTests {
    @Test func colorfgbgNamesTheBackgroundLast() {
        #expect(TerminalBackground.fromCOLORFGBG("15;0") == .dark)
        #expect(TerminalBackground.fromCOLORFGBG("0;15") == .light)
        #expect(TerminalBackground.fromCOLORFGBG("0;default;7") == .light)
        #expect(TerminalBackground.fromCOLORFGBG("12;8") == .dark)
        #expect(TerminalBackground.fromCOLORFGBG("default;default") == nil)
        #expect(TerminalBackground.fromCOLORFGBG("") == nil)
    }

    @Test func osc11AnswersInEveryDigitCount() {
        #expect(TerminalBackground.fromOSC11("\u{1B}]11;rgb:ffff/ffff/ffff\u{1B}\\\u{1B}[?62;c") == .light)
        #expect(TerminalBackground.fromOSC11("\u{1B}]11;rgb:0000/0000/0000\u{07}") == .dark)
        #expect(TerminalBackground.fromOSC11("\u{1B}]11;rgb:fd/f6/e3\u{07}") == .light, "solarized light")
        #expect(TerminalBackground.fromOSC11("\u{1B}]11;rgb:2e2e/3434/4040\u{1B}\\") == .dark, "nord")
        #expect(TerminalBackground.fromOSC11("\u{1B}]11;rgb:8/8/8\u{07}") == .dark, "mid grey reads dark")
        #expect(TerminalBackground.fromOSC11("\u{1B}[?62;c") == nil, "a terminal that only answered DA1")
        #expect(TerminalBackground.fromOSC11("\u{1B}]11;rgb:zz/00/00\u{07}") == nil)
    }
}

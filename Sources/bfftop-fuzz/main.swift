// Built with `swift build --sanitize=fuzzer` (scripts/fuzz), libFuzzer's own main runs the fuzzer
// and calls `LLVMFuzzerTestOneInput` (FuzzEntry.swift). Built plainly, this program does nothing.

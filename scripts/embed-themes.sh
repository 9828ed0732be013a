#!/usr/bin/env bash
# Regenerates Sources/BFFTopUI/BuiltinThemes.swift from themes/dark.toml and themes/light.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
{
  echo '// Generated from themes/dark.toml and themes/light.toml; BuiltinThemeTests keeps them identical.'
  echo '// Regenerate with: scripts/embed-themes.sh'
  echo 'enum BuiltinThemes {'
  echo '    static let dark = #"""'
  cat themes/dark.toml
  echo '"""#'
  echo
  echo '    static let light = #"""'
  cat themes/light.toml
  echo '"""#'
  echo '}'
} > Sources/BFFTopUI/BuiltinThemes.swift

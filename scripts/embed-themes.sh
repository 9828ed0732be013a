#!/usr/bin/env bash
# Regenerates Sources/BFFTopUI/BuiltinThemes.swift from themes/*.toml (dark and light first).
set -euo pipefail
cd "$(dirname "$0")/.."
names=(dark light)
for f in themes/*.toml; do
  n=$(basename "$f" .toml)
  [[ "$n" == dark || "$n" == light ]] || names+=("$n")
done
{
  echo '// Generated from themes/*.toml; ThemeTests keeps them identical. Regenerate with: scripts/embed-themes.sh'
  echo 'enum BuiltinThemes {'
  echo '    static let all: [(name: String, text: String)] = ['
  for n in "${names[@]}"; do
    echo "        (\"$n\", #\"\"\""
    cat "themes/$n.toml"
    echo '"""#),'
  done
  echo '    ]'
  echo '}'
} > Sources/BFFTopUI/BuiltinThemes.swift

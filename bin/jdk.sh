# Sourced by bin/arbor, bin/test and .ci/run: finds a JDK 21 or newer and exports JAVA_HOME.
# The machine's default java may be older (Debian's is 17), so look beside it too.

arbor_java_feature() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

arbor_find_jdk() {
  local candidates=() dir
  [ -n "${ARBOR_JAVA_HOME:-}" ] && candidates+=("$ARBOR_JAVA_HOME")
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v javac >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")")
  fi
  for dir in /usr/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$dir" ] && candidates+=("$dir")
  done
  local best="" best_version=0 version
  for dir in "${candidates[@]}"; do
    [ -x "$dir/bin/java" ] && [ -x "$dir/bin/javac" ] || continue
    version=$(arbor_java_feature "$dir")
    [ -n "$version" ] || continue
    if [ "$version" -ge 21 ] && [ "$version" -gt "$best_version" ]; then
      best="$dir"
      best_version="$version"
    fi
  done
  if [ -z "$best" ]; then
    echo "arbor: no JDK 21 or newer found (looked at ARBOR_JAVA_HOME, JAVA_HOME, javac on PATH and /usr/lib/jvm)." >&2
    echo "arbor: install one (for example Temurin 21 or 25) or set ARBOR_JAVA_HOME to its folder." >&2
    return 1
  fi
  export JAVA_HOME="$best"
  export PATH="$JAVA_HOME/bin:$PATH"
}

# ONNX Runtime 1.29's telemetry overflows the stack when the JVM command line is long.
export ORT_DISABLE_TELEMETRY=1

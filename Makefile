# The two commands: `make run` starts the whole system, `make test` runs every test.
.PHONY: run test lint deploy-check measure client bench-client

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

# The fast inner loop: fmt, clippy, unit tests, the React layer's tsc and vitest; no emulators,
# browsers or installs (scripts/check.sh).
.PHONY: check
check:
	bash scripts/check.sh

# What CI checks besides the tests.
lint:
	cargo fmt --all --check
	cargo clippy --locked --workspace --all-targets -- -D warnings
	cfn-lint template.yaml
	cargo clippy --locked -p chatterbox-recovery-client --all-targets --target wasm32-unknown-unknown -- -D warnings

# What an operator's deploy would meet: the template checked by cfn-lint and by SAM's own
# translator, and every function cross-built for arm64 with cargo-lambda.
deploy-check:
	PATH="$$(bash scripts/deploy-tools.sh):$$PATH" SAM_CLI_TELEMETRY=0 bash -c '\
	  cfn-lint template.yaml && \
	  sam validate --lint --template template.yaml && \
	  sam validate --template template.yaml --region us-east-1 && \
	  cargo lambda build --release --arm64 --locked $$(bash scripts/functions.sh | sed "s/^/-p /") && \
	  ls -l target/lambda/*/bootstrap'

# Size, init time, RSS and per-request CPU of the functions, into docs/figures/functions.md.
measure:
	PATH="$$(bash scripts/deploy-tools.sh):$$PATH" bash scripts/measure-functions.sh

# The browser client's package (client/pkg/), its npm tarball (client/dist/*.tgz: installs
# without Rust), and its measurements (into docs/figures/client.md).
client:
	bash client/scripts/build.sh
	bash client/scripts/pack.sh

bench-client:
	bash client/scripts/bench.sh

# The contract's answers from a running stack, deployed or local (README, Deploy):
# make smoke API=https://… ORIGIN=https://app.example [AUTHORIZATION="Bearer …"].
.PHONY: smoke
smoke:
	cargo run --locked --quiet -p recovery-infra --bin smoke -- --api "$(API)" $(if $(ORIGIN),--origin "$(ORIGIN)")

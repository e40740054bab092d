# The two commands: `make run` starts the whole system, `make test` runs every test.
.PHONY: run test lint client bench-client

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

# What CI checks besides the tests.
lint:
	cargo fmt --all --check
	cargo clippy --locked --workspace --all-targets -- -D warnings
	cfn-lint template.yaml
	cargo clippy --locked -p chatterbox-recovery-client --all-targets --target wasm32-unknown-unknown -- -D warnings

# The browser client's package (client/pkg/) and its measurements.
client:
	bash client/scripts/build.sh

bench-client:
	bash client/scripts/bench.sh

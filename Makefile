# The two commands: `make run` starts the whole system, `make test` runs every test.
.PHONY: run test lint

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

# What CI checks besides the tests.
lint:
	cargo fmt --all --check
	cargo clippy --locked --workspace --all-targets -- -D warnings
	cfn-lint template.yaml

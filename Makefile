# ttycall: `make demo` opens the terminal client signed in against a local Prosody;
# `make test` runs every test. Both install what is missing first (scripts/setup.sh).

GO        ?= go
BIN       := bin/ttycall
TESTFLAGS ?= -race -count=1 -timeout 14m

.PHONY: all setup build test bench demo fuzz clean

all: build

setup:
	@./scripts/setup.sh

build: setup
	$(GO) build -o $(BIN) .

test: setup
	$(GO) vet ./...
	$(GO) test $(TESTFLAGS) ./...

bench: setup
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

demo: build
	./$(BIN) demo --dir $(CURDIR)/bin/demo

clean:
	rm -rf bin

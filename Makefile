# ttycall: `make demo` opens the terminal client signed in against a local Prosody;
# `make test` runs every test. Both install what is missing first: the demo only what
# the build and the demo need (scripts/setup.sh), the tests the rest too
# (scripts/setup.sh test: tmux, Chromium, Janus, the interop tests' npm packages).

GO        ?= go
BIN       := bin/ttycall
TESTFLAGS ?= -race -count=1 -timeout 14m

.PHONY: all setup setup-test build test bench demo fuzz clean

all: build

setup:
	@./scripts/setup.sh

setup-test:
	@./scripts/setup.sh test

build: setup
	$(GO) build -o $(BIN) .

test: setup-test
	$(GO) vet ./...
	$(GO) test $(TESTFLAGS) ./...

bench: setup-test
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

# Each fuzz target for a bounded number of inputs (counts, not durations: Go 1.26's
# duration-bounded fuzzing can end in a spurious "context deadline exceeded").
FUZZN ?= 20000x
fuzz: setup-test
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZN) ./signaling/quickblox/wire/
	$(GO) test -run '^$$' -fuzz '^FuzzReceivers$$' -fuzztime $(FUZZN) ./devices/
	$(GO) test -run '^$$' -fuzz '^FuzzSignalSequences$$' -fuzztime 200x -parallel 1 ./call/
	$(GO) test -run '^$$' -fuzz '^FuzzJingleToSDP$$' -fuzztime $(FUZZN) ./signaling/jingle/
	$(GO) test -run '^$$' -fuzz '^FuzzSDPToJingle$$' -fuzztime $(FUZZN) ./signaling/jingle/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZN) ./signaling/jmi/

demo: build
	./$(BIN) demo --dir $(CURDIR)/bin/demo

clean:
	rm -rf bin

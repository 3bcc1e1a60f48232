# make bench: login cost, minting and store size against the peers
# (pam_permit, pam_userdb, sasldb PLAIN), written to bench/results.txt
# and drawn in bench/login-cost.png.  Not part of make check: timed.
#   BENCH_SIZES   live tokens per step (default 1000 100000 1000000)
#   BENCH_ROUNDS  alternated rounds per figure (median taken; default 5)
BENCH_B    := $(B)/bench
BENCH_BINS := $(BENCH_B)/bench_pam $(BENCH_B)/bench_sasl $(BENCH_B)/bench_mint \
	$(BENCH_B)/bench_fair $(BENCH_B)/bench_srv $(BENCH_B)/bench_report

$(BENCH_B)/bench_pam: $(BENCH_B)/bench_pam.o $(BENCH_B)/stats.o
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $^ -lpam -lpthread

$(BENCH_B)/bench_sasl: $(BENCH_B)/bench_sasl.o $(BENCH_B)/stats.o
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $^ -lsasl2 -lpthread

$(BENCH_B)/bench_mint: $(BENCH_B)/bench_mint.o $(BENCH_B)/stats.o
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $^ -lpthread

$(BENCH_B)/bench_fair: $(BENCH_B)/bench_fair.o $(BENCH_B)/stats.o
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $^

$(BENCH_B)/bench_srv: $(BENCH_B)/bench_srv.o $(BENCH_B)/stats.o
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $^ -lpthread

$(BENCH_B)/bench_report: $(BENCH_B)/bench_report.o $(BENCH_B)/stats.o
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $^

# bench-fair: root's whoami latency while three users flood (bench/fair.sh,
# also the last part of make bench; needs root for the other uids)
.PHONY: bench-fair
bench-fair: $(BENCH_B)/bench_fair $(SATOKEND) $(SATOKENCTL)
	@env B=$(B) bash bench/fair.sh

.PHONY: bench bench-build
bench-build: $(BENCH_BINS) $(SATOKEND) $(SATOKENCTL) $(PAM_MODULE) $(SASL_PLUGIN)

bench: bench-build
	@bench/ensure-deps
	@env B=$(B) BENCH_SIZES="$(BENCH_SIZES)" BENCH_ROUNDS="$(BENCH_ROUNDS)" \
		bash bench/run.sh
	@env B=$(B) BENCH_ROUNDS="$(BENCH_ROUNDS)" bash bench/servers.sh

# logins/s inside Dovecot and Postfix (bench/servers.sh; root), appended
# to bench/servers-results.txt and drawn under the login-cost chart
#   BENCH_SRV_THREADS (default 4), BENCH_SRV_ITERS (default 100)
.PHONY: bench-servers
bench-servers: $(BENCH_B)/bench_srv $(B)/daemon/satokend $(B)/cli/satokenctl \
		$(B)/pam/pam_satoken.so $(B)/sasl/libsatoken.so
	@bench/ensure-deps
	@env B=$(B) BENCH_ROUNDS="$(BENCH_ROUNDS)" BENCH_SRV_THREADS="$(BENCH_SRV_THREADS)" \
		BENCH_SRV_ITERS="$(BENCH_SRV_ITERS)" bash bench/servers.sh

# last-use reporting's cost per login, on / off / satokend down / stopped
.PHONY: bench-usage
bench-usage: $(BENCH_B)/bench_pam $(BENCH_B)/bench_mint $(BENCH_B)/bench_report $(SATOKEND) $(SATOKENCTL) $(PAM_MODULE)
	@env B=$(B) BENCH_ROUNDS="$(BENCH_ROUNDS)" bash bench/usage.sh

# the leak sweep's speed (bench/scan.sh), apart from the login figures
.PHONY: bench-scan
bench-scan: $(SATOKENCTL)
	@env B=$(B) BENCH_ROUNDS="$(BENCH_ROUNDS)" bash bench/scan.sh

# bench-fleet: a revocation until every follower refuses it, the directory
# down, a full refresh (bench/fleet.sh)
#   BENCH_FOLLOWERS (default 5), BENCH_REVOCATIONS (default 200),
#   BENCH_OUTAGE_S (default 60), BENCH_REFRESH (default 100000),
#   BENCH_HUBS (default 0: the followers read the provider)
$(BENCH_B)/bench_fleet: $(BENCH_B)/bench_fleet.o $(BENCH_B)/stats.o $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $^ -lldap -llber $(COMMON_LIBS)

.PHONY: bench-fleet
# (daemon.mk is read after this file: its programs are named by path)
bench-fleet: $(BENCH_B)/bench_fleet $(B)/daemon/satokend $(B)/cli/satokenctl \
		$(B)/tests/integration/fleet/fleettok
	@env B=$(B) BENCH_FOLLOWERS="$(BENCH_FOLLOWERS)" \
		BENCH_REVOCATIONS="$(BENCH_REVOCATIONS)" \
		BENCH_HUBS="$(BENCH_HUBS)" bash bench/fleet.sh

# bench-controlbg: a control host's purge to the directory (bench/controlbg.sh)
#   BENCH_TOKENS (default 2000)
.PHONY: bench-controlbg
bench-controlbg: $(BENCH_B)/bench_mint $(B)/daemon/satokend $(B)/cli/satokenctl
	@env B=$(B) BENCH_TOKENS="$(BENCH_TOKENS)" bash bench/controlbg.sh

# bench-controldeep: a control host's requests while a deleted account's
# token entries drain to the directory (bench/controldeep.sh)
#   BENCH_TOKENS (default 20000), BENCH_SMALL (default 60)
.PHONY: bench-controldeep
bench-controldeep: $(B)/daemon/satokend $(B)/cli/satokenctl
	@env B=$(B) BENCH_TOKENS="$(BENCH_TOKENS)" BENCH_SMALL="$(BENCH_SMALL)" \
		bash bench/controldeep.sh

# bench-churn: logins on a follower applying a stream of changes
# (bench/churn.sh)
#   BENCH_LIVE (default 200), BENCH_CHURN (default 2000), BENCH_ITERS,
#   BENCH_WRITERS (default 2)
.PHONY: bench-churn
bench-churn: $(BENCH_B)/bench_pam $(B)/daemon/satokend $(B)/cli/satokenctl \
		$(PAM_MODULE) $(FLEETTOK)
	@env B=$(B) BENCH_LIVE="$(BENCH_LIVE)" BENCH_CHURN="$(BENCH_CHURN)" \
		BENCH_ITERS="$(BENCH_ITERS)" BENCH_WRITERS="$(BENCH_WRITERS)" \
		bash bench/churn.sh

# bench-wait: how long --wait takes on a fleet (bench/wait.sh)
#   BENCH_FOLLOWERS (default 10), BENCH_WAITS (default 30)
.PHONY: bench-wait
bench-wait: $(B)/daemon/satokend $(B)/cli/satokenctl $(PAM_MODULE)
	@env B=$(B) BENCH_FOLLOWERS="$(BENCH_FOLLOWERS)" \
		BENCH_WAITS="$(BENCH_WAITS)" bash bench/wait.sh

# bench-control: mints through a control host (bench/control.sh)
#   BENCH_SECONDS (default 20)
.PHONY: bench-control
bench-control: $(BENCH_B)/bench_mint $(B)/daemon/satokend $(B)/cli/satokenctl
	@env B=$(B) BENCH_SECONDS="$(BENCH_SECONDS)" bash bench/control.sh

"""The reward service: what stands between the adapters that serve rewards to a trainer (the HTTP
server, the reward files, the launcher) and the pure scoring core.

- `settings`: every setting of the service, declared once (`RewardSettings`), and the runtime
  configs built from it (`ServiceConfig`, the judge's `JudgeConfig`, the server's `ServerOptions`).
- `table`: the machinery of a settings table (rows, checks, front ends).
- `service`: `RewardService`, built once per process (judge client, audit log).
- `wire`: the request and reply shapes of OpenRLHF and lmm-r1.
- `audit`: the audit log.
"""

// Usage texts of the commands, apart from the commands themselves so `--help` and the command
// list load nothing heavy.

/** Where `constellation members`, `leave` ... find the agent unless --http says otherwise. */
export const DEFAULT_HTTP = '127.0.0.1:8946';

const HTTP_LINE = `  --http IP:PORT   the agent's HTTP endpoint (default ${DEFAULT_HTTP})`;

export const AGENT_HELP = `Usage: constellation agent --name NAME [options]

Runs a cluster member in the foreground, printing membership changes as they happen.
Ctrl-C (SIGINT) or SIGTERM leaves the cluster gracefully; a second one stops at once.

Options:
  --name NAME            this member's name, unique in the cluster (required)
  --bind IP:PORT         address to bind UDP and TCP on (default 0.0.0.0:7946; port 0 picks one)
  --advertise IP:PORT    address others should use to reach this member (NAT, containers)
  --join HOST:PORT       a member to join through; repeat or separate with commas
  --cluster NAME         cluster name; members of different clusters never merge (default: default)
  --profile P            protocol timings: lan, wan or local (default lan)
  --tag KEY=VALUE        a tag to announce; repeatable
  --resources K=V,...    resources to announce: maxInstances, currentInstances, cpuTotal,
                         cpuAvailable, ramTotalMb, ramAvailableMb
  --snapshot PATH        remember members in PATH; a restart rejoins through them without --join
  --keyfile PATH         file holding the base64 encryption key (needs a build with encryption)
  --http IP:PORT         the local HTTP endpoint: API, /metrics, status page
                         (default ${DEFAULT_HTTP}; "off" for none)
  --json                 print JSON lines instead of text
  --log-level LEVEL      debug, info, warn, error or silent (default info); logs go to stderr
  -h, --help             this help
`;

export const MEMBERS_HELP = `Usage: constellation members [--http IP:PORT] [--json] [--watch]

Prints the member table as a running agent sees it, through its HTTP endpoint.

Options:
  --http IP:PORT   the agent's HTTP endpoint (default ${DEFAULT_HTTP})
  --state STATE    only members in this state (alive, suspect, dead, left); repeatable
  --json           print JSON: the members array (with --watch: one JSON line per change)
  --watch          keep the table live, redrawing it on every change, until Ctrl-C
  -h, --help       this help
`;

export const KEYGEN_HELP = `Usage: constellation keygen

Prints a new random 32-byte key (AES-256-GCM), base64, for --keyfile and \`constellation keys\`.
`;

export const LEAVE_HELP = `Usage: constellation leave [--http IP:PORT]

Makes the agent leave the cluster gracefully (others mark it "left", not "dead") and exit.

Options:
${HTTP_LINE}
  -h, --help       this help
`;

export const FORCE_LEAVE_HELP = `Usage: constellation force-leave NAME [--http IP:PORT]

Marks a failed (suspect or dead) member as left everywhere, so it stops being reported as dead.

Options:
${HTTP_LINE}
  -h, --help       this help
`;

export const UPDATE_HELP = `Usage: constellation update [--resources K=V,...] [--tag KEY=VALUE]... [--http IP:PORT]

Announces new resources (merged over the current ones) and/or tags (replacing them) for the
agent's member.

Options:
  --resources K=V,...  maxInstances, currentInstances, cpuTotal, cpuAvailable, ramTotalMb, ramAvailableMb
  --tag KEY=VALUE      a tag; repeatable (the given tags replace the current set)
${HTTP_LINE}
  --json               print the updated member as JSON
  -h, --help           this help
`;

export const KEYS_HELP = `Usage: constellation keys [list | add KEY | use KEY | remove KEY] [--http IP:PORT]

Manages the agent's encryption keyring: one key encrypts (the one "use" picks), every key in
the ring decrypts. To rotate: add the new key on every member, use it everywhere, then remove
the old one.

Options:
${HTTP_LINE}
  --json           print JSON
  -h, --help       this help
`;

//! Command dispatch, help, version and exit codes as Consul's CLI (mitchellh/cli) has them.
fn run(args: &[&str]) -> (i32, String, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut input: &[u8] = b"";
    let code = ballast_cli::run(&args, &mut ballast_cli::Io { out: &mut out, err: &mut err, stdin: &mut input });
    (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

const LIST: &str = "Usage: ballast [--version] [--help] <command> [<args>]\n\nAvailable commands are:\n    agent          Runs a ballast agent\n    catalog        Interact with the catalog\n    force-leave    Forces a member of the cluster to enter the \"left\" state\n    join           Tell ballast agent to join cluster\n    keygen         Generates a new encryption key\n    keyring        Manages gossip layer encryption keys\n    kv             Interact with the key-value store\n    leave          Gracefully leaves the ballast cluster and shuts down\n    maint          Controls node or service maintenance mode\n    members        Lists the members of a ballast cluster\n    operator       Provides cluster-level tools for ballast operators\n    rtt            Estimates network round trip time between nodes\n    services       Interact with services\n    version        Prints the ballast version\n\n";

#[test]
fn no_command_and_unknown_command_print_the_list_and_exit_127() {
    assert_eq!(run(&[]), (127, String::new(), LIST.to_string()));
    assert_eq!(run(&["frobnicate"]), (127, String::new(), LIST.to_string()));
}

#[test]
fn help_flag_prints_help_and_exits_0() {
    assert_eq!(run(&["-h"]), (0, String::new(), LIST.to_string()));
    let (code, out, err) = run(&["kv", "get", "-help"]);
    assert_eq!((code, out.as_str()), (0, ""));
    assert!(err.starts_with("Usage: ballast kv get [options] [KEY_OR_PREFIX]\n"), "{err}");
    assert!(err.contains("HTTP API Options\n\n  -ca-file=<value>\n"), "{err}");
    assert!(err.contains("Command Options\n\n  -base64\n     Base64 encode the value. The default value is false.\n"), "{err}");
    assert!(err.contains("  -separator=<string>\n"), "{err}");
}

#[test]
fn parent_command_alone_prints_its_subcommands_and_exits_1() {
    let (code, _, err) = run(&["kv"]);
    assert_eq!(code, 1);
    assert!(err.contains("Subcommands:\n    delete    Removes data from the KV store\n    export "), "{err}");
}

#[test]
fn unknown_flag_is_a_go_style_error_with_help_and_exit_1() {
    let (code, out, err) = run(&["kv", "get", "-nope", "k"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.starts_with("flag provided but not defined: -nope\nUsage: ballast kv get"), "{err}");
    let (code, _, err) = run(&["-foo", "version"]);
    assert_eq!(code, 1);
    assert!(err.starts_with("Invalid flags before the subcommand."), "{err}");
}

#[test]
fn version_pretty_and_json() {
    let (code, out, _) = run(&["version"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "ballast v0.1.0\nProtocol 2 spoken by default, understands 2 to 3 (agent will automatically use protocol >2 when speaking to compatible agents)\n\n"
    );
    assert_eq!(run(&["-v"]).1, out);
    let (code, out, _) = run(&["version", "-format=json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Version"], "0.1.0");
    assert_eq!(v["RPC"], serde_json::json!({"Default": 2, "Min": 2, "Max": 3}));
    assert!(out.starts_with("{\n   \"Version\""), "{out}");
    assert_eq!(run(&["version", "-format=xml"]), (1, String::new(), "Unknown format: xml\n".to_string()));
}

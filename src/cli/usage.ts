export const USAGE = `Usage: cloudce <command> [options]

Commands:
  submit -n N --executable FILE   start N pilot VMs running FILE (SIGINT/SIGTERM: stop, print the
                                  references made so far, exit 130/143)
  status [REF...] | --all         pilot status (all of this CE's VMs when no REF)
  kill REF...                     destroy pilot VMs
  cleanup [--every 10m]           remove stopped, failed and over-age VMs of this CE (once, or every interval
                                  until SIGTERM/SIGINT; a one-shot pass stops early on either); a lock
                                  keeps two cleanups of one CE from overlapping
  report [--plot FILE.svg]        pilots submitted, running, done, aborted, cleaned; VM lifetimes and hours
  output REF                      a pilot VM's console output
  render --executable FILE        print the user-data one pilot would get
  validate                        check options, driver, template and auth file
  config                          print the effective options and where each came from
  demo                            submit, watch, inspect and clean up a few pilots
  serve --stdio                   JSON-RPC on stdin/stdout for the DIRAC CE plugin (docs/serve-protocol.md)
  try --executable FILE           boot one pilot of this CE's template on a local QEMU VM, stream its
                                  console, and judge: pilot started (as whom), VM powered off, cloud-init errors

Options:
  -c, --config FILE   CE configuration: flat Key = Value or DIRAC CFG (default etc/local.conf, or $CLOUDCE_CONFIG)
      --ce NAME       the CE to use (DIRAC CFG files may define several)
  -q, --queue NAME    the queue whose options override the CE's
      --json          machine-readable output
      --log-level L   debug, info, warn (default), error, silent
  -n, --number N      pilots to submit
  -e, --executable F  pilot executable
      --proxy FILE    proxy PEM for CEs whose auth file says secret = PROXY
      --every D       cleanup: run a pass every D (30s, 10m, 1h) until SIGTERM/SIGINT
      --jitter D      cleanup --every: up to D of random extra wait per round (default a tenth of --every)
      --lock FILE     cleanup: the per-CE lock file (default ~/.cloudce/cloudce-cleanup-<ce>.lock);
                      a one-shot cleanup that finds it held exits 75
      --journal FILE  the audit journal (overrides the CE's Journal_File)
      --image PATH    try: a bootable disk (qcow2/raw cloud image) or a vm-lab image directory
                      (default $VMLAB/image, /tmp/vm-lab/image)
      --accel A       try: tcg (default) or kvm
      --memory MB     try: guest memory (default 1024)
      --timeout S     demo: wait for pilots (default 120); try: wait for power-off (default 900)
  -h, --help          this help
`;

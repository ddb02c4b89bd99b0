// Loaded with `node --import` into a measured child process: reports its peak memory and the CPU time of
// all its threads on exit.
process.on('exit', () => {
  const usage = process.resourceUsage();
  process.stderr.write(`\nbench-max-rss-kb=${usage.maxRSS} bench-cpu-us=${usage.userCPUTime + usage.systemCPUTime}\n`);
});

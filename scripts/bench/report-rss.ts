// Loaded with `node --import` into a measured child process: reports its peak memory on exit.
process.on('exit', () => {
  process.stderr.write(`\nbench-max-rss-kb=${process.resourceUsage().maxRSS}\n`);
});

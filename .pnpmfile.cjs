// nodejs-polars' native packages (the bench's Node peer) declare engines.node >= 22,
// yet their binaries run on Node 20; pnpm would otherwise skip them on Node 20.
module.exports = {
  hooks: {
    readPackage(pkg) {
      if (pkg.name.startsWith('nodejs-polars')) delete pkg.engines;
      return pkg;
    },
  },
};

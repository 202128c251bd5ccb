/** Child-process entry for bench/rest/sides.ts: starts the side it is sent, reports its URL, stops on 'close'. */
import { startSide, type SideSpec } from './sides.ts';

process.once('message', (spec: SideSpec) => {
  void startSide(spec).then((server) => {
    process.send!({ url: server.url });
    process.once('message', () => void server.close().then(() => process.exit(0)));
  });
});
// The parent went away without closing us: do not outlive it.
process.once('disconnect', () => process.exit(1));

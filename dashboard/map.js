/**
 * The world map: an inline SVG in an equirectangular projection (no tiles: the page makes no call
 * outside the control plane). Coarse coastlines, enough to place a region at a glance; every marker
 * carries its status in words next to its colour.
 */
import { svg } from './dom.js';

const WIDTH = 720;
const HEIGHT = 300;
/** Latitudes shown: Antarctica and the far north hold no region. */
const TOP = 80;
const BOTTOM = -60;

export function project(lon, lat) {
  return [((lon + 180) / 360) * WIDTH, ((TOP - lat) / (TOP - BOTTOM)) * HEIGHT];
}

/** [lon, lat] outlines, a few dozen points each. */
const LAND = [
  // North America
  [
    -168, 65, -160, 71, -130, 70, -95, 72, -80, 73, -62, 60, -55, 52, -66, 45, -70, 41, -76, 35, -81, 31, -80,
    25, -83, 29, -90, 29, -97, 26, -97, 21, -92, 18, -87, 21, -88, 15, -83, 10, -78, 8, -82, 8, -86, 12, -92,
    14, -105, 20, -110, 23, -112, 30, -117, 32, -124, 40, -124, 48, -132, 55, -140, 60, -150, 60, -158, 57,
    -165, 60,
  ],
  // Greenland
  [-73, 78, -60, 80, -30, 80, -20, 76, -22, 70, -42, 60, -50, 64, -55, 70, -66, 76],
  // South America
  [
    -80, 8, -72, 12, -62, 10, -50, 0, -35, -6, -39, -15, -41, -22, -48, -26, -53, -34, -58, -38, -62, -40,
    -65, -45, -68, -52, -70, -55, -74, -50, -73, -40, -71, -30, -70, -18, -76, -14, -81, -5, -80, 1, -77, 4,
  ],
  // Eurasia
  [
    -10, 36, -9, 43, -2, 44, -4, 48, 2, 51, 8, 54, 9, 57, 5, 58, 5, 62, 14, 67, 22, 70, 30, 70, 42, 67, 60,
    70, 70, 73, 80, 73, 100, 77, 112, 74, 130, 71, 140, 72, 160, 70, 180, 68, 180, 65, 170, 60, 163, 58, 156,
    51, 142, 54, 135, 44, 129, 35, 127, 39, 122, 40, 121, 31, 118, 24, 109, 21, 106, 17, 109, 12, 105, 9, 101,
    13, 100, 6, 104, 1, 98, 8, 97, 17, 92, 21, 88, 22, 80, 15, 78, 8, 73, 17, 72, 22, 67, 25, 57, 25, 56, 27,
    50, 30, 48, 29, 52, 24, 56, 24, 59, 22, 55, 17, 44, 12, 43, 17, 39, 22, 35, 28, 34, 31, 36, 36, 30, 36,
    27, 37, 26, 40, 24, 38, 22, 37, 20, 40, 16, 41, 18, 40, 12, 44, 14, 45, 8, 44, 3, 43, 0, 40, -1, 37, -6,
    36,
  ],
  // Africa
  [
    -17, 21, -16, 12, -12, 7, -7, 4, 1, 5, 9, 4, 10, -1, 13, -6, 12, -16, 15, -27, 18, -34, 25, -34, 32, -28,
    35, -20, 35, -12, 40, -10, 39, -4, 43, 0, 51, 11, 43, 12, 38, 18, 34, 27, 32, 31, 25, 32, 20, 31, 10, 35,
    11, 37, 1, 37, -6, 36, -10, 30, -13, 27,
  ],
  // Australia
  [
    114, -22, 114, -34, 118, -35, 124, -33, 131, -31, 138, -35, 141, -38, 147, -39, 150, -37, 153, -30, 153,
    -25, 146, -19, 142, -11, 141, -17, 136, -12, 131, -11, 126, -14, 122, -18,
  ],
  [-5, 50, 1, 51, 2, 53, -2, 56, -3, 59, -6, 58, -5, 55, -3, 54, -5, 52], // Great Britain
  [-10, 52, -6, 52, -6, 55, -8, 55, -10, 54], // Ireland
  [130, 31, 135, 34, 140, 35, 142, 40, 141, 45, 140, 41, 136, 37, 131, 34], // Japan
  [109, 1, 117, 7, 119, 1, 116, -4, 110, -3], // Borneo
  [95, 5, 106, -6, 101, -3], // Sumatra
  [131, -1, 141, -3, 150, -10, 141, -9, 138, -8], // New Guinea
  [172, -34, 178, -38, 174, -41, 167, -46, 172, -41], // New Zealand
  [44, -25, 47, -25, 50, -15, 49, -12, 44, -17], // Madagascar
];

function outline(points) {
  let d = '';
  for (let i = 0; i < points.length; i += 2) {
    const [x, y] = project(points[i], points[i + 1]);
    d += `${i === 0 ? 'M' : 'L'}${x.toFixed(1)} ${y.toFixed(1)}`;
  }
  return `${d}Z`;
}

/** The static part: ocean, graticule, land. */
export function createMap() {
  const lines = [];
  for (let lon = -150; lon <= 150; lon += 30) {
    const [x] = project(lon, 0);
    lines.push(`M${x} 0V${HEIGHT}`);
  }
  for (let lat = -30; lat <= 60; lat += 30) {
    const [, y] = project(0, lat);
    lines.push(`M0 ${y}H${WIDTH}`);
  }
  const links = svg('g', { class: 'links' });
  const markers = svg('g', { class: 'markers' });
  const root = svg(
    'svg',
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-labelledby': 'map-title map-desc', class: 'map' },
    svg('title', { id: 'map-title' }, 'World map of the regions'),
    svg(
      'desc',
      { id: 'map-desc' },
      'Each region at its coordinates, with its status in words; the table below holds the same facts.',
    ),
    svg('rect', { width: WIDTH, height: HEIGHT, class: 'ocean' }),
    svg('path', { d: lines.join(''), class: 'graticule' }),
    svg('path', { d: LAND.map(outline).join(''), class: 'land' }),
    links,
    markers,
  );
  return { root, links, markers };
}

/**
 * Draws every region: a dot coloured by status, its id and status as text, and a second line with
 * tier, role, traffic weight and saturation; links between regions dashed where a fault cuts them.
 */
export function drawRegions(map, regions, resources, faults) {
  const at = new Map(regions.map((r) => [r.region_id, project(...lonLat(r))]));
  const cut = (a, b) =>
    faults.some((f) =>
      f.kind === 'down'
        ? f.region === a || f.region === b
        : f.kind === 'partition' &&
          ((f.region === a && f.peers?.includes(b)) || (f.region === b && f.peers?.includes(a))),
    );
  map.links.replaceChildren(
    ...regions.flatMap((a, i) =>
      regions.slice(i + 1).map((b) => {
        const [x1, y1] = at.get(a.region_id);
        const [x2, y2] = at.get(b.region_id);
        return svg('line', { x1, y1, x2, y2, class: cut(a.region_id, b.region_id) ? 'link cut' : 'link' });
      }),
    ),
  );
  map.markers.replaceChildren(
    ...regions.map((r) => {
      const [x, y] = at.get(r.region_id);
      const pool = resources.find((p) => p.region === r.region_id);
      const saturation = pool
        ? `${Math.round(pool.utilization.overall * 100)} % used (${pool.level})`
        : 'pool not known yet';
      // Labels go left of markers in the east so they stay on the map.
      const left = x > WIDTH - 220;
      const tx = left ? x - 10 : x + 10;
      const anchor = left ? 'end' : 'start';
      return svg(
        'g',
        { class: `marker status-${r.status}`, 'data-region': r.region_id, 'data-status': r.status },
        svg('circle', { cx: x, cy: y, r: 7 }),
        svg(
          'text',
          { x: tx, y: y - 2, 'text-anchor': anchor, class: 'label' },
          `${r.region_id} · ${r.status}`,
        ),
        svg(
          'text',
          { x: tx, y: y + 13, 'text-anchor': anchor, class: 'sub' },
          `${r.tier} · ${r.role} · weight ${r.traffic_weight} %`,
        ),
        svg('text', { x: tx, y: y + 26, 'text-anchor': anchor, class: 'sub' }, saturation),
      );
    }),
  );
}

function lonLat(region) {
  const c = region.geographic_location?.coordinates ?? { lat: 0, lon: 0 };
  return [c.lon, c.lat];
}

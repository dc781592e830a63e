/** A few line icons (inline SVG: no icon font to load, same look on every system). */
const PATHS: Record<string, string> = {
  plus: 'M8 3v10M3 8h10',
  vm: 'M2.5 3.5h11v7h-11zM6 13h4M8 10.5V13',
  migrate: 'M3 5.5h9l-2.5-2.5M13 10.5H4l2.5 2.5',
  clock: 'M8 2.5a5.5 5.5 0 1 0 0 11a5.5 5.5 0 1 0 0-11zM8 5v3.2l2.2 1.3',
  power: 'M8 2.5v5M4.8 4.6a4.8 4.8 0 1 0 6.4 0',
  ship: 'M2.5 10l1.5 3h8l1.5-3zM4.5 10V6.5h7V10M8 6.5V3M6 4.5h4',
};

export function Icon({ name, size = 15 }: { name: keyof typeof PATHS; size?: number }) {
  return (
    <svg className="icon" width={size} height={size} viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth={1.5} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
      <path d={PATHS[name]} />
    </svg>
  );
}

export function App() {
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', padding: 24 }}>
      <h1>Ferry</h1>
      <p>Move virtual machines between KVM/QEMU hosts. The connection manager arrives with the GUI work; the engine is usable today through the <code>ferry</code> command.</p>
    </main>
  );
}

// Placeholder until the first writer lands.
namespace reports {}

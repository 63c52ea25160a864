declare module "wink-nlp-utils" {
  interface WinkNlpUtils {
    string: {
      lowerCase(text: string): string;
      removeExtraSpaces(text: string): string;
      tokenize0(text: string): string[];
      stem(word: string): string;
    };
    tokens: {
      removeWords(tokens: string[], stopWords?: unknown): string[];
      stem(tokens: string[]): string[];
    };
  }
  const nlp: WinkNlpUtils;
  export default nlp;
}
